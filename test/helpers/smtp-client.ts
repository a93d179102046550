import { createConnection } from 'node:net';

/**
 * Hands one raw message to an SMTP server (Crier's receiver) the way a relay or a forwarding
 * rule does: EHLO, MAIL FROM (`from`, '' for the null sender of a DSN), RCPT TO, DATA with
 * dot-stuffing. Returns the final reply, or the RCPT reply when the recipient is refused.
 */
export async function smtpDeliver(port: number, rcpt: string, raw: Buffer, from = 'sender@gent.example.org'): Promise<string> {
  const sock = createConnection(port, '127.0.0.1');
  let buffer = '';
  const waiting: ((line: string) => void)[] = [];
  sock.on('data', (d: Buffer) => {
    buffer += d.toString('latin1');
    let i: number;
    while ((i = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      if (/^\d{3} /.test(line)) waiting.shift()?.(line);
    }
  });
  const next = () => new Promise<string>((resolve) => waiting.push(resolve));
  const say = (line: string) => {
    const reply = next();
    sock.write(line);
    return reply;
  };
  await next();
  await say('EHLO relay.city.example\r\n');
  await say(`MAIL FROM:<${from}>\r\n`);
  const rcptReply = await say(`RCPT TO:<${rcpt}>\r\n`);
  if (!rcptReply.startsWith('250')) {
    sock.end('QUIT\r\n');
    return rcptReply;
  }
  await say('DATA\r\n');
  const body = raw.toString('latin1').replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
  const done = await say(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`);
  sock.end('QUIT\r\n');
  return done;
}
