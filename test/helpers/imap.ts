import { execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { access, chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const DOVECOT = '/usr/sbin/dovecot';

// If a test process dies without stop(), leave neither Dovecots nor their files behind. One
// shared 'exit' listener, so many servers don't trip Node's max-listeners warning.
const cleanups = new Set<() => void>();
process.on('exit', () => cleanups.forEach((cleanup) => cleanup()));

export interface ImapServer {
  host: string;
  port: number;
  user: string;
  password: string;
  /** imap://user:password@127.0.0.1:PORT */
  url: string;
  /** Root of the maildirs; the user's INBOX is `${maildir}/${user}/{cur,new}`, other mailboxes Maildir++ `.A.B` beside it. */
  maildir: string;
  /** Stores a raw message in a mailbox over IMAP (LOGIN + APPEND), creating the mailbox if needed. */
  append(mailbox: string, raw: string | Buffer): Promise<void>;
  /** Stops Dovecot and deletes everything it wrote. */
  stop(): Promise<void>;
}

/**
 * A real, throw-away Dovecot (Debian's dovecot-imapd) on 127.0.0.1 with one user. Everything —
 * config, sockets, state, log, mail — lives in one temp directory, so it never touches the
 * system Dovecot, and several can run at once.
 */
export async function startImapServer(opts: { user?: string; password?: string } = {}): Promise<ImapServer> {
  const user = opts.user ?? 'crier';
  const password = opts.password ?? 'crier-test-password';
  // They go verbatim into a passwd-file line and IMAP quoted strings.
  if (/[:\s"\\]/.test(user + password)) throw new Error('IMAP test user/password must not contain ":", spaces, quotes or backslashes');
  await access(DOVECOT).catch(() => {
    throw new Error(`${DOVECOT} not found: install Dovecot first (apt-get install dovecot-imapd)`);
  });
  const { stdout } = await promisify(execFile)(DOVECOT, ['--version']);
  const v24 = !/^2\.[0-3]\./.test(stdout); // 2.4 renamed most auth/mail settings

  // Dovecot refuses to run mail processes as root ("userdb returned 0 as uid", and with mail_uid=0
  // "Mail access not allowed for root"), so as root the mail belongs to Debian's `dovecot` user.
  const owner = process.getuid!() === 0 ? await systemUser('dovecot') : { name: userInfo().username, uid: process.getuid!(), gid: process.getgid!() };
  const dir = await mkdtemp(join(tmpdir(), 'crier-imap-'));
  // mkdtemp's 0700 would lock out the unprivileged auth (dovecot) and login (dovenull) processes.
  await chmod(dir, 0o755);
  const maildir = join(dir, 'mail');
  await mkdir(maildir);
  await chown(maildir, owner.uid, owner.gid);
  await writeFile(join(dir, 'passwd'), `${user}:{PLAIN}${password}\n`, { mode: 0o644 });

  const config = (port: number) => {
    const home = v24 ? `${maildir}/%{user}` : `${maildir}/%u`;
    return [
      ...(v24 ? ['dovecot_config_version = 2.4.0', 'dovecot_storage_version = 2.4.0'] : []),
      `base_dir = ${dir}/run`,
      `state_dir = ${dir}/state`,
      `log_path = ${dir}/dovecot.log`,
      'listen = 127.0.0.1',
      'protocols = imap',
      'ssl = no',
      v24 ? 'auth_allow_cleartext = yes' : 'disable_plaintext_auth = no',
      // As root, the unprivileged helpers run as the users the Debian package created; otherwise
      // Dovecot cannot switch users, so every process is the current one, and sockets keep their
      // group (an empty group means "don't chown"; a numeric gid is rejected).
      `default_login_user = ${process.getuid!() === 0 ? 'dovenull' : owner.name}`,
      `default_internal_user = ${owner.name}`,
      ...(process.getuid!() === 0 ? [] : ['default_internal_group =']),
      // System users such as `dovecot` sit below the default first_valid_uid/gid (500).
      `first_valid_uid = ${owner.uid}`,
      `first_valid_gid = ${owner.gid}`,
      ...(v24
        ? [
            'mail_driver = maildir',
            `mail_path = ${home}`,
            `mail_home = ${home}`,
            `passdb passwd-file {\n  passwd_file_path = ${dir}/passwd\n}`,
            `userdb static {\n  fields {\n    uid = ${owner.uid}\n    gid = ${owner.gid}\n    home = ${home}\n  }\n}`,
          ]
        : [
            `mail_location = maildir:${home}`,
            `passdb {\n  driver = passwd-file\n  args = ${dir}/passwd\n}`,
            `userdb {\n  driver = static\n  args = uid=${owner.uid} gid=${owner.gid} home=${home}\n}`,
          ]),
      // "/" as hierarchy separator, so tests can use names like "Archive/2024" (maildir's default is ".").
      'namespace inbox {\n  inbox = yes\n  separator = /\n}',
      // No chroots: they need root with CAP_SYS_CHROOT, which containers may lack. imaps off:
      // with ssl = no it would be useless, and as root it could grab port 993.
      'service anvil {\n  chroot =\n}',
      `service imap-login {\n  chroot =\n  inet_listener imap {\n    port = ${port}\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}`,
      '',
    ].join('\n');
  };

  // The free port can be taken between our probe and Dovecot's bind, so retry on that.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    await writeFile(join(dir, 'dovecot.conf'), config(port));
    const child = spawn(DOVECOT, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const onExit = () => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    };
    cleanups.add(onExit);
    const stop = async () => {
      cleanups.delete(onExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    };
    try {
      await waitForGreeting(port, exited);
    } catch (err) {
      const log = output + (await readFile(join(dir, 'dovecot.log'), 'utf8').catch(() => ''));
      cleanups.delete(onExit);
      child.kill('SIGKILL');
      await exited;
      if (/Address already in use/.test(log) && attempt < 5) continue;
      await rm(dir, { recursive: true, force: true });
      throw new Error(`Dovecot did not start: ${(err as Error).message}\n${log}`);
    }
    const server: ImapServer = {
      host: '127.0.0.1',
      port,
      user,
      password,
      url: `imap://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
      maildir,
      stop,
      async append(mailbox, raw) {
        const imap = await imapConnect(port);
        try {
          await imap.command(`LOGIN "${user}" "${password}"`);
          const box = `"${mailbox.replace(/[\\"]/g, '\\$&')}"`;
          // Only INBOX is auto-created; CREATE fails harmlessly when the mailbox already exists.
          if (mailbox.toUpperCase() !== 'INBOX') await imap.command(`CREATE ${box}`).catch(() => {});
          const body = Buffer.from(raw);
          await imap.command(`APPEND ${box} {${body.length}}`, body);
          await imap.command('LOGOUT');
        } finally {
          imap.close();
        }
      },
    };
    return server;
  }
}

/** uid/gid of a user from /etc/passwd (no getpwnam in Node). */
async function systemUser(name: string) {
  const line = (await readFile('/etc/passwd', 'utf8')).split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no "${name}" user: install Dovecot first (apt-get install dovecot-imapd)`);
  const [, , uid, gid] = line.split(':');
  return { name, uid: Number(uid), gid: Number(gid) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls until Dovecot accepts connections and greets with "* OK"; fails as soon as it exits. */
async function waitForGreeting(port: number, exited: Promise<void>) {
  // Aborting on exit matters when the port turned out to be someone else's: their server may
  // accept the connection and never greet, and we must not sit out the read timeout.
  const dead = new AbortController();
  void exited.then(() => dead.abort());
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      (await imapConnect(port, dead.signal)).close();
      return;
    } catch (err) {
      if (dead.signal.aborted) throw new Error('dovecot exited');
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * A minimal IMAP client: enough for LOGIN/CREATE/APPEND/LOGOUT (no imapflow in the deps).
 * Resolves once the "* OK" greeting is read.
 */
async function imapConnect(port: number, signal?: AbortSignal) {
  const sock: Socket = connect(port, '127.0.0.1');
  const abort = () => sock.destroy(new Error('aborted'));
  signal?.addEventListener('abort', abort);
  let buf = '';
  let wake = () => {};
  let failure: Error | null = null;
  sock.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    wake();
  });
  sock.on('error', (e) => ((failure = e), wake()));
  sock.on('close', () => {
    signal?.removeEventListener('abort', abort);
    failure ??= new Error('IMAP connection closed');
    wake();
  });
  const nextLine = async (): Promise<string> => {
    for (;;) {
      const i = buf.indexOf('\r\n');
      if (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        return line;
      }
      if (failure) throw failure;
      await new Promise<void>((r) => (wake = r));
    }
  };
  sock.setTimeout(10_000, () => sock.destroy(new Error('IMAP timeout')));
  try {
    const greeting = await nextLine();
    if (!greeting.startsWith('* OK')) throw new Error(`unexpected IMAP greeting: ${greeting}`);
  } catch (err) {
    sock.destroy();
    throw err;
  }
  let seq = 0;
  return {
    /** Sends a command; a `literal` is sent after the server's "+" continuation. */
    async command(line: string, literal?: Buffer) {
      const tag = `t${++seq}`;
      sock.write(`${tag} ${line}\r\n`);
      for (;;) {
        const reply = await nextLine();
        if (reply.startsWith('+') && literal) {
          sock.write(Buffer.concat([literal, Buffer.from('\r\n')]));
          literal = undefined;
        } else if (reply.startsWith(`${tag} `)) {
          if (!reply.startsWith(`${tag} OK`)) throw new Error(`IMAP ${line.split(' ')[0]} failed: ${reply}`);
          return;
        }
      }
    },
    close: () => sock.destroy(),
  };
}
