import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Config } from '../../server/config.js';
import type { OutboxRow } from '../../server/mail/store.js';
import { translate } from '../../server/platform/i18n.js';
import { parseMail, type ParsedMail } from '../fixtures/mail.js';
import { postMultipart } from '../fixtures/multipart.js';
import { csrfFrom, newCase, rowCounts, startTestApp, type TestApp } from '../support/harness.js';
import { closedPort, startRelay, type Relay } from '../support/smtp-relay.js';

/**
 * Outgoing mail, end to end: the outbox row written with the change, the
 * worker sending it through the real transport (an .eml file, or SMTP over a
 * socket to a relay in this process), retries when the relay fails, and
 * headers that user text cannot break.
 */

let seq = 0;
const uniqueEmail = () => `invanare.${Date.now().toString(36)}.${++seq}@example.com`;

const FROM = 'Kontaktcenter Borlänge kommun <kontaktcenter@borlange.example>';
const smtpConfig = (smtpUrl: string, maxAttempts = 8): Partial<Config> => ({
  mail: { smtpUrl, from: FROM, outboxDir: path.join(tmpdir(), 'sc-unused-outbox'), pollMs: 50, maxAttempts },
});

async function createCaseViaApi(t: TestApp, overrides: Record<string, unknown> = {}) {
  const body = newCase({ email: uniqueEmail(), ...overrides });
  const res = await t.request().post('/api/v1/cases').send(body).expect(201);
  const token = String(res.body.statusUrl).split('/arende/')[1]!;
  return { reference: res.body.reference as string, token, email: body.email as string, statusUrl: res.body.statusUrl as string };
}

const outboxOf = async (t: TestApp, reference: string): Promise<OutboxRow[]> =>
  t.db<OutboxRow>('mail_outbox').whereIn('case_id', t.db('cases').select('id').where({ reference })).orderBy('id');

/** Every header line as sent must be 7-bit ASCII (RFC 5322): non-ASCII goes in encoded words. */
function assertAsciiHeader(mail: ParsedMail) {
  assert.ok(/^[\x09\x0a\x0d\x20-\x7e]*$/.test(mail.rawHeader), `the header is ASCII:\n${mail.rawHeader}`);
}

describe('mail: the file outbox (no SMTP_URL)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  const emlFiles = () => {
    try {
      return readdirSync(t.config.mail.outboxDir).filter((f) => f.endsWith('.eml'));
    } catch {
      return [];
    }
  };
  const mailsTo = (address: string) =>
    emlFiles()
      .map((f) => parseMail(readFileSync(path.join(t.config.mail.outboxDir, f))))
      .filter((m) => m.header('to') === address);

  it('a new case with an e-mail: an .eml with To, an encoded Subject with the reference, Auto-Submitted, Message-ID and the private link', async () => {
    assert.equal(t.services.mail.transport.kind, 'file');
    const c = await createCaseViaApi(t);
    await t.mailIdle();

    const [row] = await outboxOf(t, c.reference);
    assert.ok(row);
    assert.equal(row.status, 'sent');
    assert.equal(row.attempts, 1);
    assert.equal(row.last_error, null);
    assert.ok(row.sent_at);
    assert.equal(row.kind, 'acknowledgement');

    const mails = mailsTo(c.email);
    assert.equal(mails.length, 1, 'one file for the one mail');
    const mail = mails[0]!;
    assertAsciiHeader(mail);
    const subject = translate('sv', 'email.ack.subject', { reference: c.reference });
    assert.match(subject, /[åäö]/, 'the Swedish subject has letters that need encoding');
    assert.equal(mail.header('subject'), subject);
    assert.match(mail.rawHeader, /^Subject: =\?UTF-8\?[BQ]\?/im, 'RFC 2047 encoded on the wire');
    assert.equal(mail.header('auto-submitted'), 'auto-replied', 'an acknowledgement is an automatic reply (RFC 3834)');
    assert.equal(mail.header('message-id'), row.message_id);
    assert.match(row.message_id, /^<[^<>@\s]+@borlange\.example>$/);
    assert.match(mail.header('from') ?? '', /<kontaktcenter@borlange\.example>$/);
    assert.match(mail.header('from') ?? '', /Borlänge/, 'the display name decodes with its ä');
    assert.ok(mail.text.includes(`http://localhost:3000/arende/${c.token}`), 'the body has the private link');
    assert.equal(c.statusUrl, `http://localhost:3000/arende/${c.token}`);
    assert.ok(mail.text.includes(c.reference));
    assert.ok(mail.text.includes('Sara Öberg'), 'the greeting has the name, in UTF-8');
    assert.match(mail.header('content-type') ?? '', /^multipart\/alternative/i, 'a text and an HTML part');
    assert.ok(mail.html?.includes(`href="http://localhost:3000/arende/${c.token}"`), 'the HTML part links to the case');
    assert.match(mail.raw, /^Content-Type: text\/plain; charset=utf-8/im);
  });

  it('an English case gets the English acknowledgement', async () => {
    const c = await createCaseViaApi(t, { language: 'en' });
    await t.mailIdle();
    const mail = mailsTo(c.email)[0];
    assert.ok(mail);
    assert.equal(mail.header('subject'), translate('en', 'email.ack.subject', { reference: c.reference }));
    assert.ok(mail.text.includes(`/arende/${c.token}`));
  });

  it('a case with only a phone number queues no mail', async () => {
    const before = await rowCounts(t.db);
    const res = await t.request().post('/api/v1/cases').send(newCase({ email: undefined, phone: '070-123 45 67' })).expect(201);
    await t.mailIdle();
    const after = await rowCounts(t.db);
    assert.equal(after.mail_outbox, before.mail_outbox);
    assert.equal((await outboxOf(t, res.body.reference)).length, 0);
  });

  it('a case sent through the web form is acknowledged the same way', async () => {
    const client = t.request();
    const page = await client.get('/kontakt').expect(200);
    const email = uniqueEmail();
    const res = await postMultipart(client, '/kontakt', {
      _csrf: csrfFrom(page.text),
      category: 'forskoleplats',
      name: 'Ahmed Hassan',
      email,
      phone: '',
      subject: '',
      message: 'Vi behöver förskoleplats från januari.',
    }).expect(303);
    const token = /\/kvitto\/(.+)$/.exec(res.headers.location!)![1]!;
    await t.mailIdle();
    const [mail] = mailsTo(email);
    assert.ok(mail);
    assert.ok(mail.text.includes(`http://localhost:3000/arende/${token}`));
    assert.ok(mail.text.includes('Ahmed Hassan'));
  });
});

describe('mail: SMTP to a real relay', () => {
  let relay: Relay;
  let t: TestApp;
  before(async () => {
    relay = await startRelay();
    t = await startTestApp({ config: smtpConfig(relay.url) });
  });
  after(async () => {
    await t.close();
    await relay.close();
  });

  it('uses the SMTP transport', () => {
    assert.equal(t.services.mail.transport.kind, 'smtp');
  });

  it('the acknowledgement and an agent reply both arrive over SMTP, to the resident, with the right contents', async () => {
    const c = await createCaseViaApi(t, { subject: 'Attefallshus' });
    await t.mailIdle();
    assert.equal(relay.messages.length, 1);
    const ack = relay.messages[0]!;
    assert.deepEqual(ack.to, [c.email]);
    assert.equal(ack.from, 'kontaktcenter@borlange.example');
    assertAsciiHeader(ack.mail);
    assert.equal(ack.mail.header('to'), c.email);
    assert.equal(ack.mail.header('subject'), translate('sv', 'email.ack.subject', { reference: c.reference }));
    assert.equal(ack.mail.header('auto-submitted'), 'auto-replied');
    assert.ok(ack.mail.text.includes(`http://localhost:3000/arende/${c.token}`));

    const agent = await t.loginAs('agent', 'Anna Agent');
    await agent.agent
      .post(`/agent/cases/${c.reference}/reply`)
      .type('form')
      .send({ _csrf: agent.csrf, body: 'Hej Sara!\nEtt attefallshus på 25 kvm kräver en anmälan men inget bygglov.', status: 'waiting' })
      .expect(303);
    await t.mailIdle();
    assert.equal(relay.messages.length, 2);
    const reply = relay.messages[1]!;
    assert.deepEqual(reply.to, [c.email]);
    assertAsciiHeader(reply.mail);
    assert.equal(reply.mail.header('subject'), translate('sv', 'email.reply.subject', { reference: c.reference, subject: 'Attefallshus' }));
    assert.ok(reply.mail.text.includes('Ett attefallshus på 25 kvm kräver en anmälan men inget bygglov.'));
    assert.ok(reply.mail.text.includes('Anna Agent'), 'signed by the agent');
    assert.ok(reply.mail.text.includes(`http://localhost:3000/arende/${c.token}`));
    assert.notEqual(reply.mail.header('message-id'), ack.mail.header('message-id'));

    const rows = await outboxOf(t, c.reference);
    assert.deepEqual(rows.map((r) => [r.kind, r.status, r.attempts]), [
      ['acknowledgement', 'sent', 1],
      ['reply', 'sent', 1],
    ]);
    assert.deepEqual(rows.map((r) => r.message_id), [ack.mail.header('message-id'), reply.mail.header('message-id')]);
  });

  it('a forward mails the department its handover', async () => {
    const c = await createCaseViaApi(t, { category: 'forskoleplats', subject: 'Plats i januari' });
    await t.mailIdle();
    const before = relay.messages.length;
    const agent = await t.loginAs('agent', 'Bo Vidare');
    await agent.agent
      .post(`/agent/cases/${c.reference}/forward`)
      .type('form')
      .send({ _csrf: agent.csrf, department: 'utbildning', note: 'Kan ni ta den här?' })
      .expect(303);
    await t.mailIdle();
    assert.equal(relay.messages.length, before + 1);
    const handover = relay.messages.at(-1)!;
    assert.deepEqual(handover.to, ['forskola@borlange.example']);
    assert.equal(handover.mail.header('subject'), translate('sv', 'email.handover.subject', { reference: c.reference, subject: 'Plats i januari' }));
    assert.ok(handover.mail.text.includes('Kan ni ta den här?'));
    assert.ok(handover.mail.text.includes(`http://localhost:3000/agent/cases/${c.reference}`));
    assert.ok(!handover.mail.text.includes(c.token), 'the resident link is not handed over');
  });

  it('a subject with "\\r\\nBcc: …" cannot add a header: no Bcc, no extra recipient, the subject on one line', async () => {
    const injected = 'Bygglov\r\nBcc: evil@example.com\r\nX-Injected: yes';
    const c = await createCaseViaApi(t, { subject: injected, name: 'Eva\r\nCc: evil@example.com' });
    const agent = await t.loginAs('agent');
    await agent.agent.post(`/agent/cases/${c.reference}/reply`).type('form').send({ _csrf: agent.csrf, body: 'Svar.', status: 'waiting' }).expect(303);
    await t.mailIdle();
    const mails = relay.messages.filter((m) => m.to.includes(c.email));
    assert.equal(mails.length, 2, 'the acknowledgement and the reply');
    for (const m of mails) {
      assert.deepEqual(m.to, [c.email], 'no one else is a recipient');
      assert.ok(!m.mail.headers.has('bcc'), 'no Bcc header');
      assert.ok(!m.mail.headers.has('cc'), 'no Cc header');
      assert.ok(!m.mail.headers.has('x-injected'), 'no injected header');
      assert.equal(m.mail.headers.get('subject')?.length, 1, 'one Subject header');
      const subject = m.mail.header('subject')!;
      assert.doesNotMatch(subject, /[\r\n]/);
      assertAsciiHeader(m.mail);
    }
    const reply = mails[1]!.mail.header('subject')!;
    assert.ok(reply.startsWith(translate('sv', 'email.reply.subject', { reference: c.reference, subject: '' })), reply);
    assert.ok(reply.includes('Bygglov'));
    assert.ok(!relay.messages.some((m) => m.to.includes('evil@example.com')), 'nothing went to the injected address');
    // Our own layer, not only the mail library's: the queued subjects are one line already.
    for (const row of await outboxOf(t, c.reference)) assert.doesNotMatch(row.subject, /[\r\n]/, `${row.kind} subject in the outbox`);
  });
});

describe('mail: a failing relay', () => {
  it('a relay answering 451: the mail stays pending with attempts and last_error, and is sent once the relay works', async () => {
    const relay = await startRelay();
    const t = await startTestApp({ config: smtpConfig(relay.url) });
    try {
      relay.refuse = true;
      const c = await createCaseViaApi(t);
      await t.mailIdle();
      let [row] = await outboxOf(t, c.reference);
      assert.ok(row);
      assert.equal(row.status, 'pending');
      assert.equal(row.attempts, 1);
      assert.match(String(row.last_error), /451|try again later/i);
      assert.ok(new Date(row.next_attempt_at).getTime() > Date.now(), 'retried later, not at once');
      assert.equal(row.sent_at, null);
      assert.equal(relay.messages.length, 0);

      // Not due yet: another run leaves it alone.
      await t.mailIdle();
      [row] = await outboxOf(t, c.reference);
      assert.equal(row!.attempts, 1);

      relay.refuse = false;
      await t.db('mail_outbox').where({ id: row!.id }).update({ next_attempt_at: t.db.raw("now() - interval '1 second'") });
      await t.mailIdle();
      [row] = await outboxOf(t, c.reference);
      assert.equal(row!.status, 'sent');
      assert.equal(row!.attempts, 2);
      assert.equal(row!.last_error, null);
      assert.equal(relay.messages.length, 1);
      assert.deepEqual(relay.messages[0]!.to, [c.email]);
      assert.equal(relay.messages[0]!.mail.header('message-id'), row!.message_id, 'the same message, not a new one');
    } finally {
      await t.close();
      await relay.close();
    }
  });

  it('a closed port: pending with the connection error; after the last attempt it is marked failed', async () => {
    const port = await closedPort();
    const t = await startTestApp({ config: smtpConfig(`smtp://127.0.0.1:${port}`, 2) });
    try {
      const c = await createCaseViaApi(t);
      await t.mailIdle();
      let [row] = await outboxOf(t, c.reference);
      assert.equal(row!.status, 'pending');
      assert.equal(row!.attempts, 1);
      assert.match(String(row!.last_error), /ECONNREFUSED|connect/i);

      await t.db('mail_outbox').where({ id: row!.id }).update({ next_attempt_at: t.db.raw("now() - interval '1 second'") });
      await t.mailIdle();
      [row] = await outboxOf(t, c.reference);
      assert.equal(row!.status, 'failed', 'given up after MAIL_MAX_ATTEMPTS');
      assert.equal(row!.attempts, 2);
      assert.ok(row!.last_error);

      // A failed mail is not tried again.
      await t.db('mail_outbox').where({ id: row!.id }).update({ next_attempt_at: t.db.raw("now() - interval '1 second'") });
      await t.mailIdle();
      [row] = await outboxOf(t, c.reference);
      assert.equal(row!.attempts, 2);
    } finally {
      await t.close();
    }
  });

  it('a slow relay holds no database connection: the service keeps answering while a mail is handed over', async function () {
    this.timeout(60_000);
    const relay = await startRelay();
    let release!: () => void;
    relay.hold = new Promise<void>((r) => (release = r));
    const t = await startTestApp({ config: smtpConfig(relay.url) });
    try {
      const first = await createCaseViaApi(t);
      while (relay.held === 0) await new Promise((r) => setTimeout(r, 20));
      // The relay now sits on the acknowledgement. On the embedded database (one
      // connection) these would wait forever if sending held a transaction open.
      const second = await createCaseViaApi(t);
      await t.request().get(`/arende/${first.token}`).expect(200);
      await t.request().get('/healthz').expect(200);
      assert.equal(relay.messages.length, 0, 'nothing delivered while held');
      release();
      relay.hold = undefined;
      await t.mailIdle();
      while (relay.messages.length < 2) {
        await new Promise((r) => setTimeout(r, 50));
        await t.mailIdle();
      }
      assert.deepEqual(relay.messages.map((m) => m.to[0]).sort(), [first.email, second.email].sort());
      const states = await t.db('mail_outbox').pluck('status');
      assert.deepEqual([...new Set(states)], ['sent']);
    } finally {
      await t.close();
      await relay.close();
    }
  });

  it('a failing relay never fails the request that queued the mail', async () => {
    const port = await closedPort();
    const t = await startTestApp({ config: smtpConfig(`smtp://127.0.0.1:${port}`) });
    try {
      const before = await rowCounts(t.db);
      const c = await createCaseViaApi(t);
      await t.mailIdle();
      const after = await rowCounts(t.db);
      assert.equal(after.cases, before.cases + 1);
      assert.equal(after.mail_outbox, before.mail_outbox + 1);
      await t.request().get(`/arende/${c.token}`).expect(200);
    } finally {
      await t.close();
    }
  });
});
