import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** Where a scripted SMTP peer hangs up, or answers with an error. */
export type HangUp = 'greeting' | 'mail' | 'rcpt' | 'body' | 'after-dot' | 'dot-451';

/**
 * A minimal, real SMTP server on loopback that follows the protocol up to one step and then
 * hangs up (or answers 451 to the final dot), recording what it got and when, so a test can
 * see exactly where in the exchange a client's failure happened.
 */
export async function startHangUpPeer(step: HangUp) {
  const events: { at: number; what: string }[] = [];
  const server = createServer((socket: Socket) => {
    if (step === 'greeting') return void socket.destroy();
    socket.write('220 peer.test ESMTP\r\n');
    let inData = false;
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      if (inData) {
        if (step === 'body' && buffer.length > 10) {
          events.push({ at: Date.now(), what: 'body' });
          return void socket.destroy();
        }
        const end = buffer.indexOf('\r\n.\r\n');
        if (end < 0) return;
        events.push({ at: Date.now(), what: 'dot' });
        buffer = buffer.slice(end + 5);
        inData = false;
        if (step === 'after-dot') return void socket.destroy();
        return void socket.write(step === 'dot-451' ? '451 4.3.0 try again later\r\n' : '250 2.0.0 queued\r\n');
      }
      let i: number;
      while ((i = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const verb = line.slice(0, 4).toUpperCase();
        events.push({ at: Date.now(), what: verb });
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250-peer.test\r\n250 8BITMIME\r\n');
        else if (verb === 'MAIL') step === 'mail' ? socket.destroy() : socket.write('250 2.1.0 ok\r\n');
        else if (verb === 'RCPT') step === 'rcpt' ? socket.destroy() : socket.write('250 2.1.5 ok\r\n');
        else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
        if (socket.destroyed) return;
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `smtp://127.0.0.1:${port}`, events, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
