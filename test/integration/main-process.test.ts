import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { databaseKind, emptyPostgresDatabase } from '../support/database.js';
import { deliver, INTAKE, plainMail } from '../support/smtp-client.js';

/**
 * `npm start` as a person runs it: a real process that migrates, seeds the
 * demo once, says where to go, serves, and stops cleanly on SIGTERM.
 */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitFor(check: () => Promise<boolean> | boolean, what: string, limitMs = 60_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('the service process (npm start)', function () {
  this.timeout(120_000);
  let dataDir: string;
  let baseEnv: NodeJS.ProcessEnv;
  let port: number;
  let smtpPort: number;

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'sc-main-'));
    port = await freePort();
    smtpPort = await freePort();
    baseEnv = { DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', SMTP_PORT: String(smtpPort), SMTP_HOST: '127.0.0.1' };
    const url = await emptyPostgresDatabase();
    if (url) Object.assign(baseEnv, { DATABASE_URL: url, SESSION_SECRET: 'a9f3c2e1b7d64f0e8a1c5b9d3e7f2a6c4b8d0e2f', DEMO: 'true' });
  });
  after(async () => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts, seeds the demo once with a generated password, serves, and stops on SIGTERM', async () => {
    const first = start(baseEnv);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok === true, 'the first start');
    await waitFor(() => first.output().includes('Servicecenter is running at'), 'the welcome text');
    const welcome = first.output();
    assert.match(welcome, /staff: +http:\/\/localhost:\d+\/login/);
    assert.match(welcome, /demo accounts: agent@borlange\.example/);
    const password = /demo password \(shown only this once\): (\S+)/.exec(welcome)?.[1];
    assert.ok(password && password.length >= 12, 'a generated password is shown');

    // The demo data is there: topics on the residents' page.
    const home = await (await fetch(`${base}/`)).text();
    for (const topic of ['Bygglov', 'Försörjningsstöd', 'Förskoleplats', 'Övrigt']) assert.ok(home.includes(topic), topic);

    // The manager signs in with that password and finds six weeks of history in the statistics.
    const loginPage = await fetch(`${base}/login`);
    const cookies = loginPage.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await loginPage.text())?.[1] ?? '';
    const signedIn = await fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies },
      body: new URLSearchParams({ _csrf: csrf, email: 'manager@borlange.example', password }).toString(),
    });
    assert.equal(signedIn.status, 303);
    const session = [cookies, ...signedIn.headers.getSetCookie().map((c) => c.split(';')[0])].join('; ');
    const stats = (await (await fetch(`${base}/api/v1/stats/report`, { headers: { cookie: session } })).json()) as { volumes: { total: number }; agents?: unknown[] };
    assert.ok(stats.volumes.total > 500, `the demo history fills the last 30 days (${stats.volumes.total} cases)`);
    assert.ok(stats.agents && stats.agents.length > 0, 'with the per-agent table for the manager');

    // The SMTP intake listens too, and a mail to it becomes a case (seen on the demo outbox as its acknowledgement).
    assert.match(welcome, new RegExp(`mail in: +SMTP on port ${smtpPort}`));
    const mailFrom = `smtp.main.${Date.now()}@example.com`;
    const smtpAnswer = await deliver(smtpPort, plainMail({ from: mailFrom, subject: 'Via SMTP', body: 'Hej från e-post' }), { from: mailFrom, to: [INTAKE] });
    assert.equal(smtpAnswer.code, 250, smtpAnswer.response);
    await waitFor(async () => (await (await fetch(`${base}/demo/outbox`)).text()).includes(mailFrom), 'the acknowledgement of the mailed-in case');

    // In-flight work finishes after SIGTERM: a request that is still sending its body is answered.
    const body = JSON.stringify({ name: 'Sen Avslutning', email: 'sen@example.com', category: 'ovrigt', message: 'Hej' });
    const slow = new Promise<number>((resolve, reject) => {
      import('node:http').then(({ request }) => {
        const req = request(`${base}/api/v1/cases`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.write(body.slice(0, 10));
        setTimeout(() => req.end(body.slice(10)), 700);
      }, reject);
    });
    await new Promise((r) => setTimeout(r, 200));
    first.child.kill('SIGTERM');
    assert.equal(await slow, 201, 'the in-flight request was answered');
    assert.equal(await first.exited, 0, first.output());
    assert.match(first.output(), /"msg":"stopped"/);

    // A second start keeps the data and does not seed or print a password again.
    const second = start(baseEnv);
    await waitFor(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok === true, 'the second start');
    await waitFor(() => second.output().includes('Servicecenter is running at'), 'the second welcome');
    assert.doesNotMatch(second.output(), /shown only this once/);
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output());
    if (databaseKind === 'embedded') assert.ok(readdirSync(path.join(dataDir, 'pglite')).length > 0, 'data under DATA_DIR/pglite');
  });

  it('refuses to start on PostgreSQL without a strong SESSION_SECRET', async () => {
    const run = start({ ...baseEnv, DATABASE_URL: 'postgres://root@127.0.0.1:5432/postgres', SESSION_SECRET: 'changeme' });
    assert.equal(await run.exited, 1);
    assert.match(run.output(), /SESSION_SECRET must be at least 32 characters/);
  });
});
