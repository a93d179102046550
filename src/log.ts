import pino, { type Logger } from 'pino';

/**
 * JSON lines on stderr (stdout is for command output); LOG_LEVEL sets the level. Lines are
 * buffered and written at least every quarter second (and at exit): a write per line was a
 * system call per e-mail sent.
 */
export function createLogger(): Logger {
  const destination = pino.destination({ dest: 2, sync: false, minLength: 4096 });
  setInterval(() => destination.flush(), 250).unref();
  return pino({ name: 'crier', level: process.env.LOG_LEVEL ?? 'info' }, destination);
}
