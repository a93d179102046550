import { channel } from 'node:diagnostics_channel';

/** One hand-over of a message to the transport (SMTP or the outbox): how long it took, and whether it was accepted. */
export interface SendTiming {
  seconds: number;
  ok: boolean;
}

/**
 * Where send times are published. The /metrics histogram of `crier start` subscribes; other
 * commands publish to nobody, and the send path does not load the metrics library.
 */
export const sendTimings = channel('crier:send');

/** Runs one hand-over to the transport and publishes how long it took. */
export async function timedSend<T>(send: () => Promise<T>): Promise<T> {
  if (!sendTimings.hasSubscribers) return send();
  const started = performance.now();
  let ok = false;
  try {
    const result = await send();
    ok = true;
    return result;
  } finally {
    sendTimings.publish({ seconds: (performance.now() - started) / 1000, ok } satisfies SendTiming);
  }
}
