// Large tool results and model outputs live here, not in workflow history: history carries a
// reference (`$blob`) with the size and a short preview. Content-addressed, so writes are idempotent.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Json } from '../core/types.js';

/** Values whose JSON is larger than this are stored as blobs. */
export const INLINE_LIMIT = 16 * 1024;

export interface BlobRef {
  $blob: string;
  bytes: number;
  preview: string;
}

export const isBlobRef = (v: unknown): v is BlobRef => !!v && typeof v === 'object' && typeof (v as BlobRef).$blob === 'string';

export class BlobStore {
  /** Recently read values: every plan of a run resolves the same references again. Content-addressed, so never stale. */
  private readonly cache = new Map<string, Json>();

  constructor(readonly dir: string) {}

  /** The value itself when small, else a reference to it (written once). */
  keep(value: Json): Json {
    const json = JSON.stringify(value);
    const bytes = Buffer.byteLength(json);
    if (bytes <= INLINE_LIMIT) return value;
    const hash = createHash('sha256').update(json).digest('hex');
    const file = this.file(hash);
    if (!existsSync(file)) {
      mkdirSync(join(this.dir, hash.slice(0, 2)), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, json);
      renameSync(tmp, file);
    }
    return { $blob: `sha256:${hash}`, bytes, preview: json.slice(0, 512) } satisfies BlobRef as unknown as Json;
  }

  get(ref: BlobRef): Json {
    const hash = ref.$blob.replace(/^sha256:/, '');
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`not a blob reference: ${ref.$blob}`);
    const hit = this.cache.get(hash);
    if (hit !== undefined) return hit;
    try {
      const value = JSON.parse(readFileSync(this.file(hash), 'utf8')) as Json;
      if (this.cache.size >= 32) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(hash, value);
      return value;
    } catch (err) {
      throw new Error(`blob ${ref.$blob} is unreadable from ${this.dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  }

  /** A copy with every reference replaced by its value. */
  resolve<T>(value: T): T {
    if (isBlobRef(value)) return this.get(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.resolve(v)) as T;
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v)])) as T;
    return value;
  }

  private file(hash: string): string {
    return join(this.dir, hash.slice(0, 2), `${hash}.json`);
  }
}
