import pino, { type Logger } from 'pino';

/** JSON lines on stderr (stdout is for command output); LOG_LEVEL sets the level. */
export function createLogger(): Logger {
  return pino({ name: 'crier', level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));
}
