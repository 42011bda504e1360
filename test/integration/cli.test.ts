import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import { createApp } from '../../server/app.js';
import { createServices } from '../../server/services.js';
import { databaseKind } from '../support/database.js';
import { cliEnv, runCli, showRun as show, withEmbedded } from '../support/cli.js';
import { startTestApp, type TestApp } from '../support/harness.js';

/**
 * The CLI as an operator runs it: a separate process. On PostgreSQL it works
 * on this file's test database; on the embedded database it gets its own data
 * directory (PGlite allows one process at a time), checked afterwards by
 * opening that directory here.
 */
describe('CLI (server/cli.ts)', function () {
  this.timeout(120_000);
  let t: TestApp;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  const email = `cli.${Date.now()}@test.example`;
  const password = 'a long cli password';

  before(async () => {
    t = await startTestApp();
    dataDir = mkdtempSync(path.join(tmpdir(), 'sc-cli-'));
    env = cliEnv({ dataDir, databaseUrl: t.databaseUrl });
  });
  after(async () => {
    await t.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runCli(env, ...args);

  it('migrate: applies the migrations and exits 0', async () => {
    const r = await cli('migrate');
    assert.equal(r.code, 0, show(r));
    if (databaseKind === 'postgres') assert.match(r.stdout, /the database is up to date/, show(r));
    else assert.match(r.stdout, /applied: .*20261128000000_foundation/, show(r));
  });

  it('user:create: creates the user; bad input exits 2 naming the option', async () => {
    const ok = await cli('user:create', '--email', email, '--role', 'agent', '--password', password, '--name', 'Cli Agent');
    assert.equal(ok.code, 0, show(ok));
    assert.match(ok.stdout, new RegExp(`created agent ${email.replace(/\./g, '\\.')} \\(id \\d+\\)`));

    const badRole = await cli('user:create', '--email', `x.${email}`, '--role', 'boss', '--password', password);
    assert.equal(badRole.code, 2, show(badRole));
    assert.match(badRole.stderr, /--role/);
    const shortPassword = await cli('user:create', '--email', `y.${email}`, '--role', 'agent', '--password', 'short');
    assert.equal(shortPassword.code, 2, show(shortPassword));
    assert.match(shortPassword.stderr, /--password/);
    const noEmail = await cli('user:create', '--role', 'agent', '--password', password);
    assert.equal(noEmail.code, 2, show(noEmail));
    assert.match(noEmail.stderr, /--email/);

    const check = async (s: ReturnType<typeof createServices>) => {
      const users = await s.auth.listUsers();
      const mine = users.filter((u) => u.email.endsWith(email));
      assert.deepEqual(
        mine.map((u) => [u.email, u.role, u.name]),
        [[email, 'agent', 'Cli Agent']],
        'only the valid user was created',
      );
      assert.ok((await s.auth.signIn(email, password)).ok, 'the password works');
    };
    if (databaseKind === 'postgres') await check(t.services);
    else await withEmbedded(dataDir, check);
  });

  it('token:create prints the token alone on its last line and it works as a bearer token; token:list and token:revoke', async () => {
    const r = await cli('token:create', '--email', email);
    assert.equal(r.code, 0, show(r));
    const lines = r.stdout.trimEnd().split('\n');
    const token = lines.at(-1)!;
    assert.match(token, /^sc_[A-Za-z0-9_-]{43}$/, show(r));
    assert.ok(!lines.slice(0, -1).some((l) => l.includes(token)), 'the token is printed once');

    const check = async (app: ReturnType<typeof createApp>) => {
      const res = await supertest(app).get('/api/v1/cases').set('Authorization', `Bearer ${token}`).expect(200);
      assert.deepEqual(Object.keys(res.body).sort(), ['items', 'next']);
      await supertest(app).get('/api/v1/cases').set('Authorization', `Bearer ${token.slice(0, -2)}xx`).expect(401);
    };
    if (databaseKind === 'postgres') await check(t.app);
    else await withEmbedded(dataDir, (_s, app) => check(app));

    // token:list shows it (never the secret); token:revoke stops it at once; a second revoke and a bad id are refused.
    const listed = await cli('token:list', '--email', email);
    assert.equal(listed.code, 0, show(listed));
    assert.ok(!listed.stdout.includes(token), 'the secret is not listed');
    const line = listed.stdout.split('\n').find((l) => /\tfull\tactive\t/.test(l));
    assert.ok(line, show(listed));
    const id = line.split('\t')[0]!;
    const revoked = await cli('token:revoke', '--id', id);
    assert.equal(revoked.code, 0, show(revoked));
    assert.match(revoked.stdout, new RegExp(`API token ${id} revoked`));
    const refused = async (app: ReturnType<typeof createApp>) => {
      await supertest(app).get('/api/v1/cases').set('Authorization', `Bearer ${token}`).expect(401);
    };
    if (databaseKind === 'postgres') await refused(t.app);
    else await withEmbedded(dataDir, (_s, app) => refused(app));
    const again = await cli('token:revoke', '--id', id);
    assert.equal(again.code, 1, show(again));
    assert.match(again.stderr, /No API token/);
    const bad = await cli('token:revoke', '--id', '../1');
    assert.equal(bad.code, 2, show(bad));
    assert.match(bad.stderr, /--id/);
    assert.match((await cli('token:list', '--email', email)).stdout, new RegExp(`^${id}\tfull\trevoked `, 'm'));
  });

  it('an unknown command exits 2 with the usage', async () => {
    const r = await cli('frobnicate');
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /Unknown command "frobnicate"/);
    assert.match(r.stderr, /Usage:/);
    for (const command of ['migrate', 'user:create', 'token:create']) assert.ok(r.stderr.includes(command), command);
  });
});
