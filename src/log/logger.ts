import pino, { type Logger } from 'pino';

export type { Logger };

/** The one root logger; everything else uses `logger.child({ ... })`. */
export function createLogger(level: string = 'info', name = 'airlock', destination?: pino.DestinationStream): Logger {
  const opts = { name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  return destination ? pino(opts, destination) : pino(opts);
}
