import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../server/config.js';
import { seedReferenceData } from '../../server/demo/seed.js';
import { createSmtpListener } from '../../server/intake/smtp-listener.js';
import { openDatabase, openPostgres } from '../../server/platform/db.js';
import { createLogger } from '../../server/platform/logger.js';
import { migrateLatest } from '../../server/platform/migrate.js';
import { createServices } from '../../server/services.js';
import { databaseKind, freshDatabase } from '../support/database.js';
import { newCase, rowCounts, startTestApp, type TestApp } from '../support/harness.js';
import { deliver, INTAKE, plainMail } from '../support/smtp-client.js';

describe('mail intake over SMTP', function () {
  this.timeout(60_000);
  let t: TestApp;
  let port: number;

  before(async () => {
    t = await startTestApp({ config: { intake: { ...loadConfig({ NODE_ENV: 'test' }, { sessionSecret: randomBytes(32).toString('hex') }).intake, maxMailBytes: 64 * 1024 } } });
    port = await t.startSmtp();
  });
  after(() => t.close());

  it('a message to the intake address is stored, answered 250, and becomes a case with an acknowledgement', async () => {
    const sender = `anna.${randomBytes(3).toString('hex')}@example.com`;
    const before = await rowCounts(t.db);
    const r = await deliver(port, plainMail({ from: `Anna Ek <${sender}>`, subject: 'Fråga om bygglov för altan', body: 'Hej! Behöver jag bygglov för en altan på 20 kvm?' }), { from: sender, to: [INTAKE] });
    assert.equal(r.code, 250, r.response);
    await t.intakeIdle();
    const after = await rowCounts(t.db);
    assert.equal(after.cases, before.cases + 1);
    const c = await t.db('cases as c').join('residents as r', 'r.id', 'c.resident_id').where('r.email', sender).first('c.*', 'r.name');
    assert.equal(c.channel, 'email');
    assert.equal(c.subject, 'Fråga om bygglov för altan');
    assert.equal(c.name, 'Anna Ek');
    const msg = await t.db('messages').where({ case_id: c.id }).first();
    assert.match(msg.body, /altan på 20 kvm/);
    assert.ok(msg.mail_message_id);
    const ack = await t.db('mail_outbox').where({ case_id: c.id, kind: 'acknowledgement' });
    assert.equal(ack.length, 1);
    const inbound = await t.db('inbound_messages').where({ case_id: c.id }).first();
    assert.equal(inbound.status, 'processed');
    assert.equal(inbound.outcome, 'created');
  });

  it('cases from the web and from mail take their numbers from one run', async () => {
    const web1 = await t.request().post('/api/v1/cases').send(newCase()).expect(201);
    const sender = `seq.${randomBytes(3).toString('hex')}@example.com`;
    await deliver(port, plainMail({ from: sender, subject: 'Nummer', body: 'Hej' }), { from: sender, to: [INTAKE] });
    await t.intakeIdle();
    const mailed = await t.db('cases as c').join('residents as r', 'r.id', 'c.resident_id').where('r.email', sender).first('c.reference');
    const web2 = await t.request().post('/api/v1/cases').send(newCase()).expect(201);
    const n = (ref: string) => Number(ref.split('-')[2]);
    assert.deepEqual([n(mailed.reference) - n(web1.body.reference), n(web2.body.reference) - n(mailed.reference)], [1, 1]);
  });

  it('refuses a recipient that is not an intake address with 550, and stores nothing', async () => {
    const before = await t.db('inbound_messages').count<{ n: string }[]>('* as n');
    const r = await deliver(port, plainMail({ from: 'x@example.com', subject: 'Hej', body: 'Hej' }), { from: 'x@example.com', to: ['someone.else@borlange.example'] });
    assert.equal(r.code, 550, r.response);
    const after = await t.db('inbound_messages').count<{ n: string }[]>('* as n');
    assert.equal(Number(after[0]!.n), Number(before[0]!.n));
  });

  it('refuses a message over MAX_MAIL_BYTES with 552, and stores nothing', async () => {
    const before = await t.db('inbound_messages').count<{ n: string }[]>('* as n');
    const big = plainMail({ from: 'big@example.com', subject: 'Stor', body: 'x'.repeat(70 * 1024) });
    const r = await deliver(port, big, { from: 'big@example.com', to: [INTAKE] });
    assert.equal(r.code, 552, r.response);
    const after = await t.db('inbound_messages').count<{ n: string }[]>('* as n');
    assert.equal(Number(after[0]!.n), Number(before[0]!.n));
  });

  it('a duplicate delivery (same Message-ID, same address) is accepted and ignored', async () => {
    const sender = `dup.${randomBytes(3).toString('hex')}@example.com`;
    const raw = plainMail({ from: sender, subject: 'Dubbel', body: 'Samma brev två gånger', messageId: `dup.${randomBytes(6).toString('hex')}@example.com` });
    const before = await rowCounts(t.db);
    assert.equal((await deliver(port, raw, { from: sender, to: [INTAKE] })).code, 250);
    assert.equal((await deliver(port, raw, { from: sender, to: [INTAKE] })).code, 250);
    await t.intakeIdle();
    const after = await rowCounts(t.db);
    assert.equal(after.cases, before.cases + 1);
  });

  it('a reply from the resident threads onto the case; the same subject from someone else opens a new case', async () => {
    const sender = `ref.${randomBytes(3).toString('hex')}@example.com`;
    await deliver(port, plainMail({ from: sender, subject: 'Förskoleplats', body: 'När får vi besked?' }), { from: sender, to: [INTAKE] });
    await t.intakeIdle();
    const c = await t.db('cases as c').join('residents as r', 'r.id', 'c.resident_id').where('r.email', sender).first('c.id', 'c.reference');
    const ack = await t.db('mail_outbox').where({ case_id: c.id, kind: 'acknowledgement' }).first('message_id');

    await deliver(port, plainMail({ from: sender, subject: `Re: [${c.reference}] Förskoleplats`, body: 'Tack, en sak till.', headers: `In-Reply-To: ${ack.message_id}` }), { from: sender, to: [INTAKE] });
    const other = `other.${randomBytes(3).toString('hex')}@example.com`;
    await deliver(port, plainMail({ from: other, subject: `Re: [${c.reference}] Förskoleplats`, body: 'Jag vill läsa ärendet.' }), { from: other, to: [INTAKE] });
    await t.intakeIdle();

    const msgs = await t.db('messages').where({ case_id: c.id }).orderBy('id');
    assert.equal(msgs.length, 2, 'the resident reply joined the case');
    assert.match(msgs[1].body, /en sak till/);
    const otherCase = await t.db('cases as c').join('residents as r', 'r.id', 'c.resident_id').where('r.email', other).first('c.id');
    assert.ok(otherCase && otherCase.id !== c.id, 'a forged reference opened a separate case');
    assert.ok(!(await t.db('messages').where({ case_id: c.id }).whereILike('body', '%läsa ärendet%').first()));
  });

  it('a mail reply reopens a resolved case', async () => {
    const sender = `reopen.${randomBytes(3).toString('hex')}@example.com`;
    await deliver(port, plainMail({ from: sender, subject: 'Sophämtning', body: 'När töms kärlet?' }), { from: sender, to: [INTAKE] });
    await t.intakeIdle();
    const c = await t.db('cases as c').join('residents as r', 'r.id', 'c.resident_id').where('r.email', sender).first('c.id', 'c.reference');
    const agent = await t.loginAs('agent');
    await agent.agent.post(`/api/v1/cases/${c.reference}/replies`).set('X-CSRF-Token', agent.csrf).send({ body: 'På tisdag.', status: 'resolved' }).expect(201);
    assert.equal((await t.db('cases').where({ id: c.id }).first()).status, 'resolved');
    await deliver(port, plainMail({ from: sender, subject: `Re: [${c.reference}] Sophämtning`, body: 'Det blev inte tömt.' }), { from: sender, to: [INTAKE] });
    await t.intakeIdle();
    const after = await t.db('cases').where({ id: c.id }).first();
    assert.equal(after.status, 'open');
    assert.equal(after.reopen_count, 1);
    assert.equal(after.resolved_at, null);
  });

  it('an auto-reply is kept but ignored: no case, no acknowledgement', async () => {
    const sender = `auto.${randomBytes(3).toString('hex')}@example.com`;
    const before = await rowCounts(t.db);
    const r = await deliver(port, plainMail({ from: sender, subject: 'Automatiskt svar: Hej', body: 'Jag är på semester.', headers: 'Auto-Submitted: auto-replied' }), { from: sender, to: [INTAKE] });
    assert.equal(r.code, 250);
    await t.intakeIdle();
    const after = await rowCounts(t.db);
    assert.equal(after.cases, before.cases);
    assert.equal(after.mail_outbox, before.mail_outbox);
    const row = await t.db('inbound_messages').orderBy('id', 'desc').first();
    assert.equal(row.outcome, 'ignored_loop');
  });

  it('at most one acknowledgement per sender in the window', async () => {
    const sender = `many.${randomBytes(3).toString('hex')}@example.com`;
    for (const n of [1, 2, 3]) await deliver(port, plainMail({ from: sender, subject: `Fråga ${n}`, body: `Fråga nummer ${n}` }), { from: sender, to: [INTAKE] });
    await t.intakeIdle();
    const cases = await t.db('cases as c').join('residents as r', 'r.id', 'c.resident_id').where('r.email', sender).count<{ n: string }[]>('* as n');
    assert.equal(Number(cases[0]!.n), 3);
    const acks = await t.db('mail_outbox').where({ kind: 'acknowledgement' }).whereRaw('lower(to_address) = ?', [sender]).count<{ n: string }[]>('* as n');
    assert.equal(Number(acks[0]!.n), 1);
  });

  it('garbage that is not a message goes to quarantine with the reason, and can be discarded; nothing is lost', async () => {
    const r = await deliver(port, Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 0, 0, 10, 10]), { from: 'junk@example.com', to: [INTAKE] });
    assert.equal(r.code, 250);
    await t.intakeIdle();
    const row = await t.db('inbound_messages').orderBy('id', 'desc').first();
    assert.equal(row.status, 'quarantined');
    assert.match(row.last_error, /parse/i);
    const admin = await t.loginAs('admin');
    const page = await admin.agent.get('/admin/mail').expect(200);
    assert.ok(page.text.includes(`/admin/mail/${row.id}/raw`));
    await admin.agent.post(`/admin/mail/${row.id}/discard`).type('form').send({ _csrf: admin.csrf }).expect(303);
    const after = await t.db('inbound_messages').where({ id: row.id }).first();
    assert.equal(after.status, 'discarded');
    assert.ok(after.raw.length > 0, 'the raw message is kept');
  });
});

describe('mail intake when the database is down', function () {
  this.timeout(120_000);

  it('answers 451 while the database is unreachable, and the sender’s retry makes exactly one case', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sc-smtp-down-'));
    const base = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }, { sessionSecret: randomBytes(32).toString('hex'), logLevel: 'silent', demo: false });
    let url: string | undefined;
    if (databaseKind === 'postgres') {
      const fresh = await freshDatabase();
      url = fresh.url;
      await fresh.database.close();
    }
    const config = { ...base, databaseUrl: url };
    // The same database, opened anew: a file-backed embedded one, or the PostgreSQL clone.
    const open = async () => {
      const database = url ? openPostgres(url, 4) : await openDatabase({ databaseUrl: undefined, dataDir, dbPoolMax: 1 });
      await migrateLatest(database.knex);
      const services = createServices({ config, db: database.knex, logger: createLogger(config) });
      await seedReferenceData(services);
      return { database, services };
    };
    const sender = `nere.${randomBytes(3).toString('hex')}@example.com`;
    const raw = plainMail({ from: sender, subject: 'Databasen nere', body: 'Kommer det här fram?', messageId: `down.${randomBytes(6).toString('hex')}@example.com` });

    const first = await open();
    const listenerA = createSmtpListener({ config, store: first.services.intake.store, onStored: () => undefined, logger: first.services.logger });
    const port = await listenerA.listen(0, '127.0.0.1');
    await first.database.close(); // the database goes away under a running listener
    const refused = await deliver(port, raw, { from: sender, to: [INTAKE] });
    assert.equal(refused.code, 451, refused.response);
    await listenerA.close();
    first.services.mail.transport.close();

    const second = await open();
    try {
      const listenerB = createSmtpListener({ config, store: second.services.intake.store, onStored: () => second.services.intake.processor.kick(), logger: second.services.logger });
      await listenerB.listen(port, '127.0.0.1');
      second.services.intake.processor.start();
      const retried = await deliver(port, raw, { from: sender, to: [INTAKE] });
      assert.equal(retried.code, 250, retried.response);
      assert.equal((await deliver(port, raw, { from: sender, to: [INTAKE] })).code, 250, 'a further duplicate retry is accepted');
      second.services.intake.processor.kick();
      await second.services.intake.processor.idle();
      const cases = await second.database.knex('cases as c').join('residents as r', 'r.id', 'c.resident_id').where('r.email', sender).count<{ n: string }[]>('* as n');
      assert.equal(Number(cases[0]!.n), 1, 'exactly one case');
      await listenerB.close();
    } finally {
      await second.services.intake.processor.stop();
      second.services.mail.transport.close();
      await second.database.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('mail intake: STARTTLS, retries and quarantine', function () {
  this.timeout(60_000);

  it('offers STARTTLS when a certificate is configured, and takes mail over it', async () => {
    const { execFileSync } = await import('node:child_process');
    const dir = mkdtempSync(path.join(tmpdir(), 'sc-tls-'));
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const intake = loadConfig({ NODE_ENV: 'test', SMTP_TLS_KEY: keyFile, SMTP_TLS_CERT: certFile }, { sessionSecret: randomBytes(32).toString('hex') }).intake;
    const t = await startTestApp({ config: { intake } });
    try {
      const port = await t.startSmtp();
      const nodemailer = (await import('nodemailer')).default;
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } });
      const sender = `tls.${randomBytes(3).toString('hex')}@example.com`;
      const info = await transport.sendMail({ envelope: { from: sender, to: [INTAKE] }, raw: plainMail({ from: sender, subject: 'Krypterat', body: 'Över TLS' }) });
      transport.close();
      assert.match(info.response, /^250/);
      await t.intakeIdle();
      assert.ok(await t.db('cases as c').join('residents as r', 'r.id', 'c.resident_id').where('r.email', sender).first('c.id'));
    } finally {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a message that fails processing is retried, quarantined after the last attempt, and becomes a case when reprocessed', async () => {
    const intake = loadConfig({ NODE_ENV: 'test' }, { sessionSecret: randomBytes(32).toString('hex') }).intake;
    const t = await startTestApp({ config: { intake: { ...intake, category: 'finns-inte', maxAttempts: 2, pollMs: 50 } } });
    try {
      // Neither the configured topic nor the fallback exists: processing fails.
      await t.db('categories').where({ slug: 'ovrigt' }).update({ active: false });
      const port = await t.startSmtp();
      const sender = `retry.${randomBytes(3).toString('hex')}@example.com`;
      assert.equal((await deliver(port, plainMail({ from: sender, subject: 'Försök igen', body: 'Hej' }), { from: sender, to: [INTAKE] })).code, 250);
      await t.intakeIdle();
      let row = await t.db('inbound_messages').orderBy('id', 'desc').first();
      assert.equal(row.status, 'received', 'kept for another attempt');
      assert.equal(row.attempts, 1);
      assert.match(row.last_error, /finns-inte/);
      // The retry comes when its time has come.
      await t.db('inbound_messages').where({ id: row.id }).update({ next_attempt_at: t.db.fn.now() });
      await t.intakeIdle();
      row = await t.db('inbound_messages').where({ id: row.id }).first();
      assert.equal(row.status, 'quarantined');
      assert.equal(row.attempts, 2);

      // An admin fixes the topic and processes it again from the quarantine page.
      await t.services.organisation.updateCategory((await t.db('categories').where({ slug: 'ovrigt' }).first('id')).id, { name_sv: 'Övrigt', name_en: 'Other', active: 'true' });
      const admin = await t.loginAs('admin');
      await admin.agent.post(`/admin/mail/${row.id}/reprocess`).type('form').send({ _csrf: admin.csrf }).expect(303);
      await t.intakeIdle();
      row = await t.db('inbound_messages').where({ id: row.id }).first();
      assert.equal(row.status, 'processed');
      assert.equal(row.outcome, 'created');
      const c = await t.db('cases').where({ id: row.case_id }).first();
      assert.ok(c);
      // Reprocessing something not in quarantine is refused.
      await admin.agent.post(`/admin/mail/${row.id}/reprocess`).type('form').send({ _csrf: admin.csrf }).expect(404);
    } finally {
      await t.close();
    }
  });
});
