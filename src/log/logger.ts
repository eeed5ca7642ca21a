import pino, { type Logger } from 'pino';

export type { Logger };

/** The one root logger; everything else uses `logger.child({ ... })`. */
export function createLogger(level: string = 'info', name = 'airlock'): Logger {
  return pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}
