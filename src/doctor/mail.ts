import { createPrivateKey } from 'node:crypto';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { Duration } from 'luxon';
import { addressOf } from '../config/addresses.ts';
import { redact } from '../redact.ts';
import type { CheckResult, DoctorCheck } from './check.ts';

/*
 * Mail: an SMTP session opened and closed the way Crier's sender opens one (EHLO, STARTTLS when
 * offered, AUTH, QUIT; no MAIL FROM, nothing sent), and the facts about the addresses and the
 * DKIM key that need no DNS.
 */

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/**
 * How two domains line up for DMARC: the same, or one under the other (aligned only under
 * DMARC's relaxed rule, its default), or neither.
 */
function alignment(a: string, b: string): 'same' | 'relaxed' | 'none' {
  if (a === b) return 'same';
  return a.endsWith(`.${b}`) || b.endsWith(`.${a}`) ? 'relaxed' : 'none';
}

/** Opens a session and resolves once it is closed again; rejects with the SMTP error. */
function smtpSession(opts: SMTPConnection.Options, auth: { user: string; pass: string } | undefined): Promise<{ tls: boolean; authOffered: string[] }> {
  const conn = new SMTPConnection(opts);
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      conn.close();
      reject(e);
    };
    conn.once('error', fail);
    conn.connect(() => {
      // nodemailer's own list of the AUTH mechanisms the EHLO reply named (no public accessor).
      const authOffered = [...((conn as unknown as { _supportedAuth?: string[] })._supportedAuth ?? [])];
      const done = () => {
        if (settled) return;
        settled = true;
        const tls = conn.secure;
        conn.once('end', () => resolve({ tls, authOffered }));
        conn.quit();
      };
      if (!auth) return done();
      conn.login(auth, (err) => (err ? fail(err) : done()));
    });
  });
}

/** The SMTP relay of `mail.smtp`: reached, TLS as it goes, the login accepted; nothing sent. */
export const smtpCheck: DoctorCheck = {
  id: 'smtp',
  async run({ crier }) {
    const mail = crier.config.mail;
    if (mail.transport !== 'smtp') return [{ check: 'smtp', status: 'ok', subject: 'outbox', message: `mail.transport is outbox: e-mail is written to ${mail.outbox} and nothing is sent, so there is no SMTP session to open` }];
    if (!mail.smtp) return [{ check: 'smtp', status: 'fail', subject: 'mail.smtp', message: 'mail.transport is smtp but mail.smtp is not set; write smtp://user:password@host:587' }];
    const url = new URL(mail.smtp);
    const subject = redact(mail.smtp);
    const secure = url.protocol === 'smtps:';
    const port = Number(url.port || (secure ? 465 : 587));
    const auth = url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined;
    const timeout = Duration.fromISO(mail.pool.timeout).toMillis();
    // The options of Crier's sender (src/delivery/smtp-sender.ts), so what works here works there.
    const opts: SMTPConnection.Options = { host: url.hostname, port, secure, tls: { rejectUnauthorized: url.searchParams.get('tlsRejectUnauthorized') !== 'false' }, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout };
    try {
      const session = await smtpSession(opts, auth);
      const steps = ['EHLO', ...(secure ? [] : session.tls ? ['STARTTLS'] : []), ...(auth ? [`AUTH as ${auth.user}`] : []), 'QUIT'];
      const message = `${steps.join(', ')}: accepted${secure ? ' (TLS from the start)' : ''}; nothing sent`;
      const data = { host: url.hostname, port, tls: session.tls, auth: auth ? auth.user : null, authOffered: session.authOffered };
      const local = ['localhost', '127.0.0.1', '::1', '[::1]'].includes(url.hostname);
      if (!session.tls && !local) {
        return [{ check: 'smtp', status: 'warn', subject, message: `${message}, but unencrypted: the server offered no STARTTLS${auth ? ' and the password crossed the network in clear' : ''}`, details: ["Use the relay's submission port with STARTTLS (smtp://…:587) or smtps://…:465."], data }];
      }
      if (!auth && session.authOffered.length) {
        return [{ check: 'smtp', status: 'warn', subject, message: `${message}, without logging in: the server offers AUTH (${session.authOffered.join(', ')}) and most relays refuse mail from a client that did not`, details: ['Put the account in mail.smtp: smtp://user:password@host:587 (write @ in a user name as %40).'], data }];
      }
      return [{ check: 'smtp', status: 'ok', subject, message, data }];
    } catch (e) {
      return [{ check: 'smtp', status: 'fail', subject, message: smtpFailure(e as SMTPConnection.SMTPError, subject, auth?.user) }];
    }
  },
};

function smtpFailure(err: SMTPConnection.SMTPError, where: string, user: string | undefined): string {
  const reply = err.response ? ` (${err.response.trim()})` : err.code ? ` (${err.code}: ${err.message})` : ` (${err.message})`;
  if (err.code === 'EAUTH') return `the SMTP server at ${where} refused the login${user ? ` of ${user}` : ''}${reply}; check the user and password in mail.smtp (write @ as %40 and : as %3A inside them)`;
  if (err.code === 'ETLS' || /certificate|self[- ]signed|CERT_|wrong version number|handshake/i.test(err.message)) {
    return `TLS with the SMTP server at ${where} failed${reply}; check the host name in mail.smtp against its certificate, smtps:// for port 465 and smtp:// for 587, or add ?tlsRejectUnauthorized=false for a test relay`;
  }
  if (err.code === 'EDNS') return `the SMTP server's name in mail.smtp (${where}) does not resolve${reply}; check the host name`;
  if (err.code === 'ETIMEDOUT' || err.code === 'ECONNECTION' || err.code === 'ESOCKET') {
    return `cannot reach the SMTP server at ${where}${reply}; check the host and port in mail.smtp and that this machine may connect to them (a firewall, a provider that blocks port 25)`;
  }
  if (err.responseCode && err.responseCode >= 500) return `the SMTP server at ${where} refused Crier's session${reply}; ask its administrator whether this machine and account may relay`;
  return `the SMTP session with ${where} failed${reply}`;
}

/** DKIM: the signing domain is the From address's, and the key is one receivers verify. */
export const dkimCheck: DoctorCheck = {
  id: 'dkim',
  async run({ crier }) {
    const { mail } = crier.config;
    const from = addressOf(mail.from).toLowerCase();
    const fromDomain = domainOf(from);
    if (!mail.dkim) {
      return [{ check: 'dkim', status: 'ok', subject: fromDomain, message: `not configured: Crier does not sign, so ${mail.transport === 'smtp' ? `the relay must sign for ${fromDomain} (Exchange Online and Google Workspace do, once set up for the domain)` : 'the outbox files are unsigned'}` }];
    }
    const d = mail.dkim.domain.toLowerCase();
    const subject = `d=${d}; s=${mail.dkim.selector}`;
    const out: CheckResult[] = [];
    const aligned = alignment(fromDomain, d);
    if (aligned === 'none') {
      out.push({
        check: 'dkim',
        status: 'fail',
        subject,
        message: `mail.dkim.domain is ${d} but mail.from (${from}) is at ${fromDomain}: receivers judge DMARC by the From domain, and a signature for ${d} does not count for it`,
        details: [`Sign for ${fromDomain} (mail.dkim.domain: ${fromDomain}, its public key at ${mail.dkim.selector}._domainkey.${fromDomain}), or send from an address at ${d}.`],
        data: { from: fromDomain, dkim: d },
      });
    } else {
      out.push({
        check: 'dkim',
        status: 'ok',
        subject,
        message: aligned === 'same' ? `signs for ${d}, the domain of mail.from (${from})` : `signs for ${d}, aligned with mail.from's ${fromDomain} under DMARC's relaxed rule (its default; a policy with adkim=s would not count it)`,
        details: [`Receivers verify it with the public key published at ${mail.dkim.selector}._domainkey.${d} (not looked up here).`],
        data: { from: fromDomain, dkim: d },
      });
    }
    if (mail.dkim.privateKey) {
      const key = createPrivateKey(mail.dkim.privateKey);
      const type = key.asymmetricKeyType;
      const bits = key.asymmetricKeyDetails?.modulusLength;
      if (type === 'rsa' && bits !== undefined && bits < 1024) out.push({ check: 'dkim', status: 'fail', subject, message: `the key is RSA ${bits} bits: receivers ignore signatures under 1024 bits (RFC 8301)`, details: ['Make a 2048-bit key (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048), publish it under a new selector, then switch.'] });
      else if (type === 'rsa' && bits !== undefined && bits < 2048) out.push({ check: 'dkim', status: 'warn', subject, message: `the key is RSA ${bits} bits; 2048 is what RFC 8301 asks for and what large receivers expect`, details: ['Make a 2048-bit key, publish it under a new selector, then switch.'] });
      else if (type === 'ed25519') out.push({ check: 'dkim', status: 'warn', subject, message: 'the key is Ed25519, which many receivers (Gmail among them) cannot verify yet: to them the mail is unsigned', details: ['Sign with an RSA 2048-bit key.'] });
    }
    return out;
  },
};

/** Domains reserved for examples and tests (RFC 2606, RFC 6761): nobody receives mail there. */
const RESERVED = /(^|\.)(example\.(com|org|net)|example|test|invalid|localhost|local)$/i;

/**
 * The addresses of the config, where they can be judged without DNS: none at a domain nobody
 * receives mail for, replies going to a mailbox a person reads, and bounces coming back to a
 * domain that keeps SPF counting for DMARC.
 */
export const mailCheck: DoctorCheck = {
  id: 'mail',
  async run({ crier }) {
    const config = crier.config;
    const { mail } = config;
    const from = addressOf(mail.from).toLowerCase();
    const fromDomain = domainOf(from);
    const replyTo = (mail.replyTo ?? from).toLowerCase();
    const out: CheckResult[] = [];
    const sends = mail.transport === 'smtp';
    // An outbox (the demo) writes files: its made-up domains harm nobody.
    if (sends) {
      const named: [string, string | undefined][] = [
        ['mail.from', from],
        ['mail.replyTo', mail.replyTo],
        ['mail.bounces', mail.bounces || undefined],
        ['inbound.address', config.inbound?.address],
        ['operator.email', config.operator?.email],
      ];
      for (const [key, address] of named) {
        if (address && RESERVED.test(domainOf(address))) out.push({ check: 'mail', status: 'fail', subject: key, message: `${address} is at ${domainOf(address)}, a domain reserved for examples and tests: nobody receives mail there`, details: [`Write the organisation's own address in ${key}.`] });
      }
    }
    if (/^(no-?reply|do-?not-?reply|noreply-[a-z0-9-]+)@/i.test(replyTo)) {
      out.push({
        check: 'mail',
        status: 'warn',
        subject: mail.replyTo ? 'mail.replyTo' : 'mail.from',
        message: `replies go to ${replyTo}, which by its name nobody reads: every footer names it as the address to write to`,
        details: ['Set mail.replyTo to a mailbox a person reads (the superadmin, the participation team).'],
      });
    }
    // The envelope sender (Return-Path): SPF is checked for its domain, and counts for DMARC only when that lines up with From.
    const envelope = mail.bounces === false ? from : (mail.bounces || config.inbound?.address || from).toLowerCase();
    const envelopeDomain = domainOf(envelope);
    const dkimAligned = mail.dkim ? alignment(fromDomain, mail.dkim.domain.toLowerCase()) !== 'none' : false;
    if (alignment(envelopeDomain, fromDomain) === 'none' && !dkimAligned) {
      const key = mail.bounces ? 'mail.bounces' : 'inbound.address';
      out.push({
        check: 'mail',
        status: 'warn',
        subject: key,
        message: `bounces come back to ${envelopeDomain} (${key}) but mail.from is at ${fromDomain}: SPF then does not count for DMARC, and without a DKIM signature for ${fromDomain} receivers with a strict DMARC policy refuse the mail`,
        details: [`Sign for ${fromDomain} (mail.dkim, or the relay's signing), or take bounces at ${fromDomain} (mail.bounces, inbound.address).`],
      });
    }
    if (!out.length) {
      const parts = [`from ${from}`, `replies to ${replyTo}`, `bounces to ${mail.bounces === false ? from : envelope.replace(/@/, '+…@')}`];
      if (config.inbound) parts.push(`answers to ${config.inbound.address.replace(/@/, '+…@')}`);
      out.push({ check: 'mail', status: 'ok', subject: fromDomain, message: `${parts.join(', ')}${sends ? '' : ' (outbox: not judged for reserved domains)'}` });
    }
    return out;
  },
};
