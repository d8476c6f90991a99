/**
 * The process logger: pino, JSON lines by default, `text` for humans (distribution's
 * `log.formatter`). Secrets never reach it: request logging writes only method, path, status,
 * sizes and timings, and redact paths cover credential-bearing fields.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  readonly level: LevelWithSilent;
  readonly formatter: 'json' | 'text' | 'logstash';
  /** Static fields added to every line (distribution's `log.fields`). */
  readonly fields?: Readonly<Record<string, unknown>>;
  /** Where to write; standard output when absent. */
  readonly destination?: NodeJS.WritableStream;
}

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'password',
  '*.password',
  'secret',
  '*.secret',
];

export function createLogger(options: LoggerOptions): Logger {
  const base = { ...(options.fields ?? {}) };
  const pinoOptions = {
    level: options.level,
    base,
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (options.formatter === 'text') {
    const stream = pretty({ colorize: false, sync: true, translateTime: 'SYS:standard', destination: options.destination ?? 1 });
    return pino(pinoOptions, stream);
  }
  if (options.destination) return pino(pinoOptions, options.destination);
  return pino(pinoOptions);
}

/** A logger that writes nothing, for tests and tools that do not want output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
