// Payload encryption: every payload Airlock hands to Temporal (workflow inputs and results, activity inputs and
// results, queries, updates, signals, memo, user metadata, failure details) is AES-256-GCM encrypted by the client
// or the worker before it leaves the process, so Temporal's history, its UI and anyone with Temporal access see
// ciphertext. `temporal.encryption.current` encrypts; every key of `temporal.encryption.keys` still decrypts
// (rotation). The key id travels in the payload's metadata. Payloads that are not encrypted (histories written
// before encryption) decode unchanged. Search attributes and headers are not payload-encoded by Temporal.
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { visit, walkGetWorkflowExecutionHistoryResponse } from '@temporalio/common/lib/internal-non-workflow/index.js';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import proto from '@temporalio/proto';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type AirlockConfig } from '../config/load.js';
import { defaultSecretSource, type SecretSource } from '../registry/credentials.js';

const ProtoPayload = proto.temporal.api.common.v1.Payload;

/** `metadata.encoding` of an encrypted payload (the SDKs' samples use the same name). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata naming the key that encrypted a payload. */
export const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER_METADATA = 'encryption-cipher';
const CIPHER = 'AES-256-GCM';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Where the generated key lives when `temporal.encryption` is unset. */
export const GENERATED_KEY_FILE = 'payload-keys.json';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A key that cannot be used, or a payload that cannot be decrypted. */
export class PayloadCodecError extends Error {
  override readonly name = 'PayloadCodecError';
}

export interface PayloadKeys {
  /** The id of the key that encrypts. */
  current: string;
  /** Every key that decrypts, by id (32 bytes each). */
  keys: ReadonlyMap<string, Buffer>;
}

/** 32 bytes from base64 or hex text; anything else is an error naming the key id and the fix. */
export function parseKey(id: string, text: string, where: string): Buffer {
  const s = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(s)) key = Buffer.from(s, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) key = Buffer.from(s, 'base64');
  if (key?.length !== 32) throw new PayloadCodecError(`${where}: payload key "${id}" is not 32 bytes of base64 or hex; generate one with \`openssl rand -base64 32\``);
  return key;
}

/** The generated key file (`{current, keys: {id: base64}}`), created once with mode 0600 when `create`. */
function generatedKeys(dataDir: string, create: boolean): PayloadKeys | undefined {
  const file = join(dataDir, GENERATED_KEY_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new PayloadCodecError(`${file}: cannot read the payload keys: ${(err as Error).message}`);
    if (!create) return undefined;
    const id = `local-${randomBytes(4).toString('hex')}`;
    text = JSON.stringify({ current: id, keys: { [id]: randomBytes(32).toString('base64') } }, null, 2) + '\n';
    mkdirSync(dataDir, { recursive: true });
    try {
      // `wx`: two processes starting at once on one data dir keep the first one's key.
      writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new PayloadCodecError(`${file}: cannot write the payload keys: ${(e as Error).message}`);
      text = readFileSync(file, 'utf8');
    }
  }
  let raw: { current?: unknown; keys?: Record<string, unknown> };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch {
    throw new PayloadCodecError(`${file}: not JSON; restore it from a backup (payloads it encrypted cannot be read without it)`);
  }
  const keys = new Map<string, Buffer>();
  for (const [id, v] of Object.entries(raw.keys ?? {})) keys.set(id, parseKey(id, String(v), file));
  if (typeof raw.current !== 'string' || !keys.has(raw.current)) throw new PayloadCodecError(`${file}: "current" must name one of its keys`);
  return { current: raw.current, keys };
}

type KeyConfig = Pick<AirlockConfig, 'temporal' | 'dataDir' | 'env' | 'configFile'>;

/**
 * The keys of `temporal.encryption`, resolved now (a missing or short key is a start-up error naming it). Unset:
 * the key generated once under the data dir. Keys of an existing generated file still decrypt after
 * `temporal.encryption` is configured, so runs started before keep working.
 */
export function loadPayloadKeys(config: KeyConfig, secrets: SecretSource = defaultSecretSource(config.env)): PayloadKeys {
  try {
    const e = config.temporal.encryption;
    if (!e) return generatedKeys(config.dataDir, true)!;
    const keys = new Map(generatedKeys(config.dataDir, false)?.keys ?? []);
    for (const [id, ref] of Object.entries(e.keys)) {
      const where = `temporal.encryption.keys.${id}`;
      let text: string;
      try {
        text = secrets.get(ref);
      } catch (err) {
        throw new PayloadCodecError(`${where}: ${(err as Error).message}; set it to 32 random bytes, base64 or hex (\`openssl rand -base64 32\`)`, { cause: err });
      }
      keys.set(id, parseKey(id, text, where));
    }
    return { current: e.current, keys };
  } catch (err) {
    // One line at start-up, naming the config file: `airlock: config error: <file>: temporal.encryption.keys.<id>: …`.
    if (err instanceof PayloadCodecError) throw new ConfigError(err.message, config.configFile);
    throw err;
  }
}

/** AES-256-GCM over the whole serialized payload; the key id is authenticated too (additional data). */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly k: PayloadKeys) {
    if (!k.keys.has(k.current)) throw new PayloadCodecError(`payload key "${k.current}" (current) is not configured`);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.k.keys.get(this.k.current)!;
    return payloads.map((p) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(enc.encode(this.k.current));
      const body = Buffer.concat([cipher.update(ProtoPayload.encode(p).finish()), cipher.final()]);
      return {
        metadata: { encoding: enc.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: enc.encode(this.k.current), [CIPHER_METADATA]: enc.encode(CIPHER) },
        data: Buffer.concat([iv, body, cipher.getAuthTag()]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const encoding = p.metadata?.encoding;
      if (!encoding || dec.decode(encoding) !== ENCRYPTED_ENCODING) return p;
      const idBytes = p.metadata?.[KEY_ID_METADATA];
      const id = idBytes ? dec.decode(idBytes) : '';
      const key = this.k.keys.get(id);
      if (!key) throw new PayloadCodecError(`payload encrypted with key "${id}", which is not configured (temporal.encryption.keys)`);
      const data = p.data ?? new Uint8Array();
      if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadCodecError(`encrypted payload (key "${id}") is truncated`);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES)).setAAD(idBytes!);
        decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
        const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
        return ProtoPayload.decode(plain) as Payload;
      } catch (err) {
        throw new PayloadCodecError(`encrypted payload (key "${id}") does not decrypt: tampered with, or another key under the same id`, { cause: err });
      }
    });
  }
}

const byConfig = new WeakMap<object, EncryptionCodec>();

/** The codec of a config (one per config object: the client and the worker of a process share it). */
export function payloadCodec(config: KeyConfig): EncryptionCodec {
  let codec = byConfig.get(config);
  if (!codec) byConfig.set(config, (codec = new EncryptionCodec(loadPayloadKeys(config))));
  return codec;
}

/** The data converter of every Temporal client and worker Airlock creates. */
export function temporalDataConverter(config: KeyConfig): DataConverter {
  return { payloadCodecs: [payloadCodec(config)] };
}

/** Whether a history holds encrypted payloads. */
export async function hasEncryptedPayloads(history: History): Promise<boolean> {
  let found = false;
  const check = (p: Payload) => {
    if (p.metadata?.encoding && dec.decode(p.metadata.encoding) === ENCRYPTED_ENCODING) found = true;
    return p;
  };
  await visit({ history }, walkGetWorkflowExecutionHistoryResponse, {
    transformPayload: async (p) => check(p),
    transformPayloads: async (ps) => ps.map(check),
  });
  return found;
}

/** Decodes every payload of a history in place (search attributes and headers are never encoded). */
export async function decodeHistory(history: History, codec: PayloadCodec): Promise<History> {
  await visit({ history }, walkGetWorkflowExecutionHistoryResponse, {
    transformPayload: async (p) => (await codec.decode([p]))[0]!,
    transformPayloads: (ps) => codec.decode(ps),
    skipHeaders: true,
    skipSearchAttributes: true,
  });
  return history;
}
