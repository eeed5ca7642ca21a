// Admin decisions about catalog servers taken at run time (REST): quarantine, retire, re-approve.
// Kept in the data directory, shared by the API and workers on it, and re-read when it changes.
// An entry overrides the status in the config file; an unreadable file refuses every server.
import { join } from 'node:path';
import { z } from 'zod';
import { JsonStateFile } from './jsonFile.js';

const Entry = z.strictObject({
  status: z.enum(['approved', 'quarantined', 'retired']),
  by: z.string(),
  at: z.string(),
  reason: z.string(),
});
const StatusFileSchema = z.strictObject({ version: z.literal(1), servers: z.record(z.string(), Entry) });
export type StatusEntry = z.infer<typeof Entry>;
type StatusFile = z.infer<typeof StatusFileSchema>;

/** Where the API and workers sharing a data directory keep admin status decisions. */
export const registryStatusFile = (config: { dataDir: string }) => join(config.dataDir, 'registry-status.json');

export class StatusStore {
  private readonly store: JsonStateFile<StatusFile>;

  constructor(readonly file: string) {
    this.store = new JsonStateFile(file, StatusFileSchema, () => ({ version: 1 as const, servers: {} }));
  }

  current(): StatusFile | Error {
    return this.store.current();
  }

  set(server: string, entry: StatusEntry): void {
    const cur = this.current();
    if (cur instanceof Error) throw cur;
    this.store.write({ version: 1, servers: { ...cur.servers, [server]: entry } });
  }
}
