import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/** What the relay does with a recipient the first `times` times it is offered (then it accepts). */
export type Misbehaviour =
  | { at: 'rcpt' | 'data'; reply: string; times?: number }
  | { at: 'rcpt'; drop: true; times?: number }
  | { at: 'rcpt'; stall: true; times?: number };

export interface Accepted {
  from: string;
  to: string[];
  at: number;
  raw: string;
}

/**
 * A real SMTP server (smtp-server) that behaves like a strict city relay: per recipient it can
 * answer 4xx or 5xx to RCPT TO or to the message, drop the connection, or stall without an
 * answer; it can require AUTH and refuse every login while `refuseLogins` is set, and offer
 * STARTTLS with its self-signed certificate.
 */
export async function startRelay(opts: { auth?: { user: string; pass: string }; starttls?: boolean } = {}) {
  const accepted: Accepted[] = [];
  const rules = new Map<string, Misbehaviour & { seen: number }>();
  const sockets = new Map<number, Socket>();
  const logins = { ok: 0, refused: 0 };
  const state = { refuseLogins: false, refuseSender: '' };
  const firstTime = (address: string, at: 'rcpt' | 'data') => {
    const rule = rules.get(address.toLowerCase());
    if (!rule || rule.at !== at || rule.seen >= (rule.times ?? Infinity)) return undefined;
    rule.seen++;
    return rule;
  };
  const replyError = (reply: string) => {
    const code = Number(reply.slice(0, 3));
    return Object.assign(new Error(reply.slice(4)), { responseCode: code });
  };
  const server = new SMTPServer({
    logger: false,
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    disabledCommands: opts.starttls ? [] : ['STARTTLS'],
    onAuth(auth, _session, callback) {
      if (state.refuseLogins || auth.username !== opts.auth?.user || auth.password !== opts.auth?.pass) {
        logins.refused++;
        return callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
      }
      logins.ok++;
      callback(null, { user: auth.username });
    },
    onMailFrom(_address, _session, callback) {
      callback(state.refuseSender ? replyError(state.refuseSender) : undefined);
    },
    onRcptTo(address, session: SMTPServerSession, callback) {
      const rule = firstTime(address.address, 'rcpt');
      if (!rule) return callback();
      if ('drop' in rule) {
        sockets.get(session.remotePort)?.destroy();
        return;
      }
      if ('stall' in rule) return; // no answer: the client's timeout decides
      callback(replyError(rule.reply));
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        const rule = to.map((a) => firstTime(a, 'data')).find(Boolean);
        if (rule && 'reply' in rule) return callback(replyError(rule.reply));
        accepted.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to, at: Date.now(), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  server.server.on('connection', (socket: Socket) => {
    sockets.set(socket.remotePort!, socket);
    socket.on('close', () => sockets.delete(socket.remotePort!));
  });
  // A sender stopped mid-session resets its connection: an 'error' event, uncaught without a listener.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  const auth = opts.auth ? `${encodeURIComponent(opts.auth.user)}:${encodeURIComponent(opts.auth.pass)}@` : '';
  return {
    url: `smtp://${auth}127.0.0.1:${port}`,
    port,
    accepted,
    logins,
    state,
    /** How the relay treats `address` (the first `times` times; default always). */
    misbehave(address: string, rule: Misbehaviour) {
      rules.set(address.toLowerCase(), { ...rule, seen: 0 });
    },
    /** Refuses every MAIL FROM with this reply ('' accepts again). */
    refuseSender(reply: string) {
      state.refuseSender = reply;
    },
    forgive(address: string) {
      rules.delete(address.toLowerCase());
    },
    to: (address: string) => accepted.filter((m) => m.to.includes(address.toLowerCase())),
    close: () => {
      for (const s of sockets.values()) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
