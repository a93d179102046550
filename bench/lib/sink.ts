/*
 * The SMTP sink of the send benchmarks, in a process of its own (so its CPU is not the
 * sender's): smtp-server accepting every message, counting them and the distinct recipients.
 * IPC: it sends { port } when listening; told { expect: N }, it answers { done, at, distinct }
 * when the N-th message is accepted (`at`: Date.now() of that moment); { reset } zeroes it.
 */
import { SMTPServer } from 'smtp-server';

let count = 0;
let expect = Infinity;
const recipients = new Set<string>();
let distinct = true;
const twice: string[] = [];

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onRcptTo(address, _session, cb) {
    const to = address.address.toLowerCase();
    if (recipients.has(to)) {
      distinct = false;
      if (twice.length < 5) twice.push(to);

    }
    recipients.add(to);
    cb();
  },
  onData(stream, _session, cb) {
    stream.resume();
    stream.on('end', () => {
      count++;
      cb();
      if (count === expect) process.send!({ done: count, at: Date.now(), distinct, twice, recipients: recipients.size });
    });
  },
});
// A worker stopped mid-session resets its connection; unhandled, that error would end the sink.
server.on('error', () => undefined);
server.listen(0, '127.0.0.1', () => {
  process.send!({ port: (server.server.address() as { port: number }).port });
});
process.on('message', (m: { expect?: number; reset?: boolean }) => {
  if (m.reset) {
    count = 0;
    recipients.clear();
    distinct = true;
    twice.length = 0;
  }
  if (m.expect !== undefined) {
    expect = m.expect;
    if (count >= expect) process.send!({ done: count, at: Date.now(), distinct, recipients: recipients.size });
  }
});
process.on('disconnect', () => process.exit(0));
