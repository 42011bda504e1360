import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';

/**
 * A private Dovecot for the IMAP tests: Debian's dovecot-imapd, started in the
 * foreground (`dovecot -F`) as a child of the test process with its own
 * configuration, port, users and maildir under a temp directory. The system's
 * Dovecot service, if any, is left alone.
 */

const DOVECOT = process.env.DOVECOT_PATH ?? '/usr/sbin/dovecot';

/** Like test/support/ensure-chromium.sh: as root on Debian, installs the package once; otherwise says what to do. */
export function ensureDovecot(): void {
  if (existsSync(DOVECOT)) return;
  const hasApt = (() => {
    try {
      execFileSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (process.getuid?.() === 0 && hasApt) {
    process.stderr.write("The IMAP tests need Dovecot: installing Debian's dovecot-imapd (once)...\n");
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'dovecot-imapd'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (existsSync(DOVECOT)) return;
  }
  throw new Error(`The IMAP tests need Dovecot at ${DOVECOT}: run 'apt-get install -y dovecot-imapd' as root (or set DOVECOT_PATH).`);
}

export interface Dovecot {
  port: number;
  user: string;
  password: string;
  /** imap://user:password@127.0.0.1:port */
  url: string;
  /** Appends a message (to INBOX unless a mailbox is given); resolves to its UID and the mailbox's UIDVALIDITY. */
  appendMessage(raw: Buffer, flags?: string[], mailbox?: string): Promise<{ uid: number; uidValidity: number }>;
  /** Runs `fn` on a fresh, logged-in connection of the test user (a second client beside the one under test). */
  withClient<T>(fn: (client: ImapFlow) => Promise<T>): Promise<T>;
  /** The flags of every message in a mailbox, by UID. */
  flagsByUid(mailbox?: string): Promise<Map<number, Set<string>>>;
  /** Stops the server (every connection drops) and starts it again on the same port with the same mail. */
  restart(): Promise<void>;
  /** What Dovecot logged so far, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function idOf(args: string[], fallback: number): number {
  try {
    return Number(execFileSync('id', args, { encoding: 'utf8' }).trim());
  } catch {
    return fallback;
  }
}

function writeConfig(dir: string, port: number, user: string, password: string): string {
  const asRoot = process.getuid?.() === 0;
  const me = userInfo();
  // Dovecot refuses mail processes running as root, and login processes too:
  // as root, mail belongs to nobody and logins run as Debian's dovenull user.
  const mailUid = asRoot ? idOf(['-u', 'nobody'], 65534) : me.uid;
  const mailGid = asRoot ? idOf(['-g', 'nobody'], 65534) : me.gid;
  const group = asRoot ? 'root' : execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
  for (const sub of ['run', 'state', 'mail', 'home']) mkdirSync(path.join(dir, sub), { recursive: true });
  if (asRoot) {
    chmodSync(dir, 0o711);
    chownSync(path.join(dir, 'mail'), mailUid, mailGid);
    chownSync(path.join(dir, 'home'), mailUid, mailGid);
  }
  writeFileSync(path.join(dir, 'users'), `${user}:{PLAIN}${password}::::::\n`, { mode: 0o600 });
  const conf = `# Written by test/support/dovecot.ts for one test run.
instance_name = servicecenter-test-${path.basename(dir)}
protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = ${asRoot ? 'root' : me.username}
default_internal_group = ${group}
default_login_user = ${asRoot ? 'dovenull' : me.username}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:${dir}/mail/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = uid=${mailUid} gid=${mailGid} home=${dir}/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
${asRoot ? '' : '  chroot =\n'}}
`;
  const file = path.join(dir, 'dovecot.conf');
  writeFileSync(file, conf);
  return file;
}

/** Resolves once the server greets on the port; rejects when the process exits first or it takes too long. */
async function waitForGreeting(port: number, child: ChildProcess, describe: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`Dovecot exited during startup:\n${describe()}`);
    const greeted = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.setTimeout(1000);
      socket.once('data', (d) => {
        socket.destroy();
        resolve(d.toString().startsWith('* OK'));
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (greeted) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Dovecot did not answer on 127.0.0.1:${port} within 15 s:\n${describe()}`);
}

export async function startDovecot(): Promise<Dovecot> {
  ensureDovecot();
  const dir = mkdtempSync(path.join(tmpdir(), 'sc-dovecot-'));
  const user = 'intake';
  const password = randomBytes(12).toString('hex');
  let port = await freePort();
  let conf = writeConfig(dir, port, user, password);
  let child: ChildProcess | undefined;
  let output = '';

  const log = () => {
    const file = path.join(dir, 'dovecot.log');
    return `${output}${existsSync(file) ? readFileSync(file, 'utf8') : ''}`;
  };
  // Dovecot's processes outlive a stopped master (an open IMAP session keeps its
  // process), so it runs in a process group of its own and the whole group goes.
  const killGroup = (signal: NodeJS.Signals) => {
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const killOnExit = () => killGroup('SIGKILL');
  process.once('exit', killOnExit);

  async function launch(): Promise<void> {
    const proc = spawn(DOVECOT, ['-F', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await waitForGreeting(port, proc, log);
  }

  async function halt(): Promise<void> {
    const proc = child;
    if (!proc) return;
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      killGroup('SIGTERM');
      const timer = setTimeout(() => killGroup('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    // What is left of the group (IMAP sessions, the log process) goes too: every client is cut.
    killGroup('SIGKILL');
  }

  // Another process may take the free port before Dovecot binds it: then try another one.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      await halt();
      if (attempt >= 3 || !/Address already in use/.test(log())) {
        process.removeListener('exit', killOnExit);
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
      port = await freePort();
      conf = writeConfig(dir, port, user, password);
    }
  }

  const connect = async () => {
    const client = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user, pass: password }, logger: false, disableAutoIdle: true });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };

  const dovecot: Dovecot = {
    get port() {
      return port;
    },
    user,
    password,
    get url() {
      return `imap://${user}:${password}@127.0.0.1:${port}`;
    },
    async withClient(fn) {
      const client = await connect();
      try {
        return await fn(client);
      } finally {
        await client.logout().catch(() => client.close());
      }
    },
    async appendMessage(raw, flags = [], mailbox = 'INBOX') {
      return dovecot.withClient(async (client) => {
        const res = await client.append(mailbox, raw, flags);
        if (!res || res.uid === undefined || res.uidValidity === undefined) throw new Error(`APPEND to ${mailbox} failed`);
        return { uid: res.uid, uidValidity: Number(res.uidValidity) };
      });
    },
    async flagsByUid(mailbox = 'INBOX') {
      return dovecot.withClient(async (client) => {
        const out = new Map<number, Set<string>>();
        const lock = await client.getMailboxLock(mailbox, { readOnly: true });
        try {
          if (client.mailbox && client.mailbox.exists > 0) {
            for await (const msg of client.fetch('1:*', { uid: true, flags: true })) out.set(msg.uid, msg.flags ?? new Set());
          }
        } finally {
          lock.release();
        }
        return out;
      });
    },
    async restart() {
      await halt();
      await launch();
    },
    log,
    async stop() {
      await halt();
      process.removeListener('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return dovecot;
}

export interface TcpProxy {
  port: number;
  /** Connections currently open through the proxy. */
  readonly open: number;
  /** Cuts every open connection at once, as a failing network would. */
  dropAll(): void;
  close(): Promise<void>;
}

/** A plain TCP forwarder to 127.0.0.1:target whose connections a test can cut mid-conversation. */
export async function startTcpProxy(target: number): Promise<TcpProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(target, '127.0.0.1');
    const pair: [net.Socket, net.Socket] = [inbound, outbound];
    pairs.add(pair);
    const end = () => {
      inbound.destroy();
      outbound.destroy();
      pairs.delete(pair);
    };
    inbound.on('error', end).on('close', end);
    outbound.on('error', end).on('close', end);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const dropAll = () => {
    for (const [a, b] of [...pairs]) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
  };
  return {
    port,
    get open() {
      return pairs.size;
    },
    dropAll,
    async close() {
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
