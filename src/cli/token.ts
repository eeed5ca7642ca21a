// `airlock token <user>` mints a dev-issuer token; `airlock token revoke --jti X | --subject S` adds to the
// deny list every API replica checks (the shared database), with any issuer.
import type { Command } from 'commander';
import { userInfo } from 'node:os';
import type { AirlockConfig } from '../config/load.js';
import { AuthError, DevIssuer } from '../identity/devIssuer.js';
import { RevocationStore } from '../identity/revocations.js';
import { DEMO_USERS } from '../identity/users.js';
import { CliError, ExitCode, usageError } from './errors.js';
import { printJson, printLine, wantsJson } from './output.js';

const known = () => Object.keys(DEMO_USERS).join(', ');

export function registerToken(program: Command, config: () => AirlockConfig): void {
  const token: Command = program
    .command('token')
    .description('print a bearer token for a demo user of the embedded dev issuer (`token revoke` revokes tokens)')
    .argument('[user]', 'demo user')
    .option('--ttl <seconds>', 'lifetime in seconds')
    .action(async (user: string | undefined, opts: { ttl?: string }) => {
      if (!user) throw usageError(`name a demo user: airlock token <user> (known: ${known()})`);
      const ttl = opts.ttl === undefined ? undefined : Number(opts.ttl);
      if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0)) throw usageError(`--ttl "${opts.ttl}" is not a duration: give a positive whole number of seconds, e.g. --ttl 3600`);
      const cfg = config();
      if (cfg.identity.issuer !== 'dev') {
        throw new CliError('`airlock token` mints dev-issuer tokens, and this config verifies tokens from an OIDC provider: get one from the provider', ExitCode.usage);
      }
      const issuer = await DevIssuer.open(cfg.dataDir, cfg.identity.tokenTtl);
      let jwt: string;
      try {
        jwt = await issuer.mint(user, {}, ttl === undefined ? undefined : ttl * 1000);
      } catch (err) {
        if (err instanceof AuthError) throw usageError(`unknown demo user "${user}": pick one of ${known()}`, { cause: err });
        throw err;
      }
      if (wantsJson(token)) printJson({ user, token: jwt });
      else printLine(jwt);
    });
  const revoke = token
    .command('revoke')
    .description('revoke one token (--jti) or every token of a subject issued until now (--subject)')
    .option('--jti <id>', "the token's jti claim")
    .option('--subject <subject>', 'the subject whose tokens issued until now are refused')
    .option('--reason <text>', 'why (recorded)', 'revoked with the CLI')
    .action(async (opts: { jti?: string; subject?: string; reason: string }) => {
      if ((opts.jti === undefined) === (opts.subject === undefined)) throw usageError('give exactly one of --jti <id> and --subject <subject> (see airlock token revoke --help)');
      const store = new RevocationStore(config());
      try {
        const revokedBy = `cli:${userInfo().username}`;
        const r = await store.revoke(
          opts.jti !== undefined ? { kind: 'jti', value: opts.jti, reason: opts.reason, revokedBy } : { kind: 'subject', value: opts.subject!, reason: opts.reason, revokedBy },
        );
        if (wantsJson(revoke)) printJson(r);
        else printLine(`revoked ${r.kind === 'jti' ? 'token' : 'every token issued until now to'} ${r.value} at ${r.revokedAt} (reason: ${r.reason})`);
      } finally {
        await store.close();
      }
    });
}
