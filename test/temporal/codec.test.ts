import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { AirlockConfig } from '../../src/config/load.js';
import { decodeHistory, EncryptionCodec, GENERATED_KEY_FILE, hasEncryptedPayloads, loadPayloadKeys, PayloadCodecError } from '../../src/temporal/codec.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'airlock-codec-'));
  dirs.push(d);
  return d;
};

type KeyConfig = Pick<AirlockConfig, 'temporal' | 'dataDir' | 'env' | 'configFile'>;
const cfg = (encryption: unknown, env: Record<string, string> = {}, dataDir = tmp()): KeyConfig => ({
  dataDir,
  env,
  configFile: 'airlock.yaml',
  temporal: { encryption } as AirlockConfig['temporal'],
});

const K1 = Buffer.alloc(32, 1).toString('base64');
const K2 = Buffer.alloc(32, 2).toString('hex');
const secret = { customerId: 'C-1001', email: 'jane@example.com' };
const toPayload = (v: unknown) => defaultPayloadConverter.toPayload(v)!;
const fromPayload = (p: Payload) => defaultPayloadConverter.fromPayload(p);
const text = (p: Payload) => Buffer.from(p.data ?? []).toString('latin1') + JSON.stringify(Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString()])));

describe('payload codec', () => {
  it('round-trips payloads and hides their content', async () => {
    const codec = new EncryptionCodec(loadPayloadKeys(cfg({ keys: { k1: { env: 'K1' } }, current: 'k1' }, { K1 })));
    const [enc] = await codec.encode([toPayload(secret)]);
    assert.equal(Buffer.from(enc!.metadata!.encoding!).toString(), 'binary/encrypted');
    assert.equal(Buffer.from(enc!.metadata!['encryption-key-id']!).toString(), 'k1');
    assert.doesNotMatch(text(enc!), /C-1001|jane@example|json\/plain/);
    const [dec] = await codec.decode([enc!]);
    assert.deepEqual(fromPayload(dec!), secret);
  });

  it('passes payloads that are not encrypted through unchanged', async () => {
    const codec = new EncryptionCodec(loadPayloadKeys(cfg({ keys: { k1: { env: 'K1' } }, current: 'k1' }, { K1 })));
    const plain = toPayload(secret);
    assert.deepEqual(await codec.decode([plain]), [plain]);
  });

  it('rotates: the current key encrypts, every configured key still decrypts', async () => {
    const env = { K1, K2 };
    const old = new EncryptionCodec(loadPayloadKeys(cfg({ keys: { k1: { env: 'K1' } }, current: 'k1' }, env)));
    const rotated = new EncryptionCodec(loadPayloadKeys(cfg({ keys: { k1: { env: 'K1' }, k2: { env: 'K2' } }, current: 'k2' }, env)));
    const [byOld] = await old.encode([toPayload(secret)]);
    assert.deepEqual(fromPayload((await rotated.decode([byOld!]))[0]!), secret);
    const [byNew] = await rotated.encode([toPayload(secret)]);
    assert.equal(Buffer.from(byNew!.metadata!['encryption-key-id']!).toString(), 'k2');
    // A key removed from the config no longer decrypts, and the error names it.
    const dropped = new EncryptionCodec(loadPayloadKeys(cfg({ keys: { k2: { env: 'K2' } }, current: 'k2' }, env)));
    await assert.rejects(dropped.decode([byOld!]), /key "k1", which is not configured/);
  });

  it('refuses a tampered payload, a swapped key id and a truncated one', async () => {
    const codec = new EncryptionCodec(loadPayloadKeys(cfg({ keys: { k1: { env: 'K1' }, k2: { env: 'K2' } }, current: 'k1' }, { K1, K2 })));
    const [enc] = await codec.encode([toPayload(secret)]);
    const flipped = Buffer.from(enc!.data!);
    flipped[20]! ^= 1;
    await assert.rejects(codec.decode([{ ...enc!, data: flipped }]), (e: Error) => e instanceof PayloadCodecError && /does not decrypt/.test(e.message));
    const swapped = { ...enc!, metadata: { ...enc!.metadata, 'encryption-key-id': Buffer.from('k2') } };
    await assert.rejects(codec.decode([swapped]), /does not decrypt/);
    await assert.rejects(codec.decode([{ ...enc!, data: enc!.data!.subarray(0, 10) }]), /truncated/);
  });

  it('reads keys from files, as hex or base64', () => {
    const dir = tmp();
    const file = join(dir, 'k');
    writeFileSync(file, `${K2}\n`);
    const keys = loadPayloadKeys(cfg({ keys: { f: { file } }, current: 'f' }));
    assert.deepEqual(keys.keys.get('f'), Buffer.alloc(32, 2));
  });

  it('stops with one line naming the key and the fix when a key is missing or short', () => {
    assert.throws(
      () => loadPayloadKeys(cfg({ keys: { prod: { env: 'PROD_KEY' } }, current: 'prod' })),
      (e: Error) =>
        e.name === 'ConfigError' &&
        e.message.startsWith('airlock.yaml: temporal.encryption.keys.prod') &&
        e.message.includes('PROD_KEY') &&
        e.message.includes('openssl rand') &&
        !e.message.includes('\n'),
    );
    assert.throws(
      () => loadPayloadKeys(cfg({ keys: { prod: { env: 'PROD_KEY' } }, current: 'prod' }, { PROD_KEY: Buffer.alloc(16).toString('base64') })),
      /temporal\.encryption\.keys\.prod: payload key "prod" is not 32 bytes/,
    );
  });

  it('generates one key under the data dir when none is configured, mode 0600, and keeps it', async () => {
    const dataDir = tmp();
    const first = loadPayloadKeys(cfg(undefined, {}, dataDir));
    const file = join(dataDir, GENERATED_KEY_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(first.keys.get(first.current)!.length, 32);
    const again = loadPayloadKeys(cfg(undefined, {}, dataDir));
    assert.deepEqual(again, first);
    // Configuring keys later: payloads of the generated key still decode.
    const [old] = await new EncryptionCodec(first).encode([toPayload(secret)]);
    const configured = new EncryptionCodec(loadPayloadKeys(cfg({ keys: { k1: { env: 'K1' } }, current: 'k1' }, { K1 }, dataDir)));
    assert.deepEqual(fromPayload((await configured.decode([old!]))[0]!), secret);
    assert.match(readFileSync(file, 'utf8'), /"current"/);
  });

  it('decodes a recorded history: committed plain fixtures unchanged, encrypted ones in place', async () => {
    const fixture = JSON.parse(readFileSync(new URL('../fixtures/histories/refund-approved.json', import.meta.url), 'utf8')) as unknown;
    const codec = new EncryptionCodec(loadPayloadKeys(cfg({ keys: { k1: { env: 'K1' } }, current: 'k1' }, { K1 })));
    const plain = historyFromJSON(fixture);
    assert.equal(await hasEncryptedPayloads(plain), false);
    const before = JSON.stringify(plain);
    assert.equal(JSON.stringify(await decodeHistory(plain, codec)), before);

    const history = historyFromJSON(fixture);
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!;
    input.payloads = await codec.encode(input.payloads!);
    assert.equal(await hasEncryptedPayloads(history), true);
    await decodeHistory(history, codec);
    assert.equal(JSON.stringify(history), before);
  });
});
