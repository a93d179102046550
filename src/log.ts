import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger } from 'pino';
import { maskDeep } from './redact.ts';

export interface LogOptions {
  /** Default $LOG_LEVEL, else info. */
  level?: string;
  /** json (one object a line) or pretty (readable lines); default $LOG_FORMAT, else pretty when stderr is a terminal. */
  format?: 'json' | 'pretty';
  /** Where lines go instead of stderr (tests). */
  stream?: DestinationStream;
}

/** pino's number for debug: a logger at this level or below shows addresses in full. */
const DEBUG = 20;

/**
 * Crier's log, on stderr (stdout is for command output): JSON lines for a log collector, or
 * readable lines when a person watches a terminal. LOG_LEVEL sets the level.
 *
 * E-mail addresses are masked (`m***@example.org`) in every line unless the level is debug or
 * trace: logs travel to collectors and tickets that residents' addresses should not, and the
 * domain is enough to see which organisation a problem is about. Done once here, on every
 * argument of every log call (the message, its object, errors), so no call site can forget.
 */
export function createLogger(opts: LogOptions = {}): Logger {
  const format = opts.format ?? logFormat(process.env.LOG_FORMAT);
  return pino(
    {
      name: 'crier',
      level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
      hooks: {
        logMethod(args, method) {
          if (this.levelVal <= DEBUG) return method.apply(this, args);
          return method.apply(this, args.map((a) => maskDeep(a)) as typeof args);
        },
      },
    },
    opts.stream ?? (format === 'pretty' ? prettyStream() : jsonStream()),
  );
}

function logFormat(env: string | undefined): 'json' | 'pretty' {
  if (env === undefined || env === '') return process.stderr.isTTY ? 'pretty' : 'json';
  if (env === 'json' || env === 'pretty') return env;
  throw new Error(`LOG_FORMAT '${env}' is not a log format; write json or pretty (unset: pretty on a terminal, else json)`);
}

/**
 * Buffered, written at least every quarter second (and at exit): a write per line was a system
 * call per e-mail sent.
 */
function jsonStream(): DestinationStream {
  const destination = pino.destination({ dest: 2, sync: false, minLength: 4096 });
  setInterval(() => destination.flush(), 250).unref();
  return destination;
}

/**
 * pino-pretty as a stream in this thread, not a transport: the build loads pino's transports
 * (worker threads) only from node_modules, and a person at a terminal wants each line as it
 * happens (sync), not batched. Loaded only here, so JSON runs never pay for it.
 */
function prettyStream(): DestinationStream {
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return pretty({ destination: 2, sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' });
}
