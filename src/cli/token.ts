// `airlock token <user>` mints a dev-issuer token; `airlock token revoke --jti X | --subject S` adds to the
// deny list every API replica checks (the shared database), with any issuer.
import type { Command } from 'commander';
import { userInfo } from 'node:os';
import type { AirlockConfig } from '../config/load.js';
import { DevIssuer } from '../identity/devIssuer.js';
import { RevocationStore } from '../identity/revocations.js';

export function registerToken(program: Command, config: () => AirlockConfig): void {
  const token: Command = program
    .command('token')
    .description('print a bearer token for a demo user of the embedded dev issuer (`token revoke` revokes tokens)')
    .argument('[user]', 'demo user')
    .option('--ttl <seconds>', 'lifetime in seconds')
    .action(async (user: string | undefined, opts: { ttl?: string }) => {
      if (!user) token.error('airlock token <user>: name a demo user');
      const cfg = config();
      if (cfg.identity.issuer !== 'dev') throw new Error('`airlock token` mints dev-issuer tokens; this config verifies tokens from an OIDC provider');
      const ttl = opts.ttl === undefined ? undefined : Number(opts.ttl);
      if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0)) token.error('--ttl must be a positive whole number of seconds');
      const issuer = await DevIssuer.open(cfg.dataDir, cfg.identity.tokenTtl);
      process.stdout.write((await issuer.mint(user, {}, ttl === undefined ? undefined : ttl * 1000)) + '\n');
    });
  const revoke = token
    .command('revoke')
    .description('revoke one token (--jti) or every token of a subject issued until now (--subject)')
    .option('--jti <id>', "the token's jti claim")
    .option('--subject <subject>', 'the subject whose tokens issued until now are refused')
    .option('--reason <text>', 'why (recorded)', 'revoked with the CLI')
    .action(async (opts: { jti?: string; subject?: string; reason: string }) => {
      if ((opts.jti === undefined) === (opts.subject === undefined)) revoke.error('airlock token revoke: give exactly one of --jti and --subject');
      const store = new RevocationStore(config());
      try {
        const revokedBy = `cli:${userInfo().username}`;
        const r = await store.revoke(
          opts.jti !== undefined ? { kind: 'jti', value: opts.jti, reason: opts.reason, revokedBy } : { kind: 'subject', value: opts.subject!, reason: opts.reason, revokedBy },
        );
        process.stdout.write(JSON.stringify(r) + '\n');
      } finally {
        await store.close();
      }
    });
}
