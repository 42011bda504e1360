import { strict as assert } from 'node:assert';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type supertest from 'supertest';
import { createApp } from '../../server/app.js';
import type { Config } from '../../server/config.js';
import { createLogger } from '../../server/platform/logger.js';
import { maskPersonnummerInUrl } from '../../server/privacy/personnummer.js';
import { postMultipart } from '../fixtures/multipart.js';
import { csrfFrom, newCase, startTestApp, type SignedIn, type TestApp } from '../support/harness.js';
import { connectLive, cookieHeader, staffSocket, waitUntil, type LiveClient } from '../support/live-client.js';
import { sign } from '../../server/telephony/signature.js';
import { deliver, INTAKE, plainMail } from '../support/smtp-client.js';
import { startRelay, type Relay } from '../support/smtp-relay.js';

/**
 * A personnummer or samordningsnummer in a case's outside text (its subject,
 * its messages, a name) is masked in every list, preview and notification:
 * the queue page and its live rows, the caller card, the API's list, the mail
 * the service sends (text, HTML and the Subject header) and the log. Only the
 * case view, for signed-in staff, and the API's single-case answer show it as
 * it was written. Cases come in by the web form, the API and real SMTP, and
 * mail goes out over SMTP to a real relay.
 */

// 12 December 1912 (the numbers Skatteverket uses in examples), written with and without the century,
// and a samordningsnummer (born 3 October 1970: the day + 60).
const TWELVE = '19121212-1212';
const TEN = '121212-1212';
const SAMORDNING = '701063-2391';
const SUBJECT = `Ansökan ${TWELVE} om bistånd`;
const MESSAGE = `Hej! Mitt personnummer är ${TEN} och min sambos samordningsnummer är ${SAMORDNING}.`;
const MASKED_SUBJECT = 'Ansökan ••••••••-•••• om bistånd';
const MASKED_MESSAGE = 'Mitt personnummer är ••••••-•••• och min sambos samordningsnummer är ••••••-••••.';

const FROM = 'Kontaktcenter Borlänge kommun <kontaktcenter@borlange.example>';
const TELEPHONY_SECRET = 'personnummer-masking-secret-0123456789-abc';
const testConfig = (smtpUrl: string): Partial<Config> => ({
  mail: { smtpUrl, from: FROM, outboxDir: path.join(tmpdir(), 'sc-unused-outbox'), pollMs: 50, maxAttempts: 3 },
  telephony: { secret: TELEPHONY_SECRET, maxSkewSeconds: 300 },
});

let seq = 0;
const uniqueEmail = () => `pnr.${Date.now().toString(36)}.${++seq}@example.com`;

/** None of the numbers, in any of the forms written above (nor their digits run together). */
function assertNoNumber(text: string | undefined, where: string): void {
  assert.ok(text !== undefined, `${where}: nothing to look at`);
  for (const n of [TWELVE, TEN, SAMORDNING, TWELVE.replace('-', ''), TEN.replace('-', ''), SAMORDNING.replace('-', '')]) {
    assert.ok(!text.includes(n), `${where} shows ${n}:\n${text.slice(0, 2000)}`);
  }
}

const decodeEntities = (html: string) => html.replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCodePoint(parseInt(h, 16))).replace(/&amp;/g, '&');

describe('personnummer: masked everywhere but the case view', function () {
  this.timeout(60_000);
  let relay: Relay;
  let t: TestApp;
  let baseUrl: string;
  let smtpPort: number;
  let agent: SignedIn;
  const clients: LiveClient[] = [];

  before(async () => {
    relay = await startRelay();
    t = await startTestApp({ config: testConfig(relay.url) });
    baseUrl = await t.listen();
    smtpPort = await t.startSmtp();
    agent = await t.loginAs('agent');
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  after(async () => {
    await t?.close();
    await relay?.close();
  });

  async function telephonyEvents(body: unknown) {
    const raw = JSON.stringify(body);
    const ts = Math.floor(Date.now() / 1000);
    await t
      .request()
      .post('/api/v1/telephony/events')
      .set('Content-Type', 'application/json')
      .set('X-Telephony-Timestamp', String(ts))
      .set('X-Telephony-Signature', sign(TELEPHONY_SECRET, ts, raw))
      .send(raw)
      .expect(200);
  }

  const mailTo = (address: string, kind: RegExp) => relay.messages.filter((m) => m.to.includes(address) && kind.test(m.mail.header('subject') ?? ''));

  /** The queue page's row of a case, as the agent's browser gets it. */
  async function queueRowOf(client: supertest.Agent, reference: string): Promise<string> {
    const page = await client.get('/agent?status=all').expect(200);
    const row = new RegExp(`<tr id="case-${reference}"[\\s\\S]*?</tr>`).exec(page.text)?.[0];
    assert.ok(row, `the queue shows ${reference}`);
    return decodeEntities(row);
  }

  async function caseView(reference: string): Promise<string> {
    return decodeEntities((await agent.agent.get(`/agent/cases/${reference}`).expect(200)).text);
  }

  it('a case from the web form: the queue page, the live row and the acknowledgement (text, HTML) mask; the case view shows it all', async () => {
    const client = await connectLive(baseUrl, { cookie: cookieHeader(agent.agent as never, baseUrl) });
    clients.push(client);
    const ack = await client.request('subscribe', { since: await t.services.live.cursor(), queue: true });
    assert.ok(ack.ok, JSON.stringify(ack));

    const resident = t.request();
    const email = uniqueEmail();
    const form = await resident.get('/kontakt').expect(200);
    const posted = await postMultipart(resident, '/kontakt', { _csrf: csrfFrom(form.text), category: 'bygglov', name: 'Eva Ek', email, phone: '', subject: SUBJECT, message: MESSAGE }).expect(303);
    const token = /\/kvitto\/(.+)$/.exec(posted.headers.location ?? '')![1]!;
    const stored = await t.db('cases').where({ resident_token: token }).first('reference', 'subject');
    assert.equal(stored.subject, SUBJECT, 'the case keeps the text as written');
    const reference = String(stored.reference);

    const pushed = await client.waitFor((m) => m.scope === 'queue' && m.reference === reference && m.type === 'case.created', 'the live row');
    assert.ok(pushed.scope === 'queue' && pushed.row);
    const liveRow = decodeEntities(pushed.row.html);
    assert.ok(liveRow.includes(MASKED_SUBJECT), liveRow);
    assertNoNumber(liveRow, 'the live queue row');

    const row = await queueRowOf(agent.agent, reference);
    assert.ok(row.includes(MASKED_SUBJECT), row);
    assertNoNumber(row, 'the queue page row');

    const view = await caseView(reference);
    for (const n of [TWELVE, TEN, SAMORDNING]) assert.ok(view.includes(n), `the case view shows ${n}`);
    // ...but not in its <title>, which lands in browser history and tab lists.
    const title = /<title>([\s\S]*?)<\/title>/.exec(view)?.[1] ?? '';
    assert.ok(title.includes(MASKED_SUBJECT), title);
    assertNoNumber(title, 'the case view title');

    await t.mailIdle();
    const [receipt] = mailTo(email, /./);
    assert.ok(receipt, 'the acknowledgement went out');
    assert.ok(receipt.mail.text.includes(MASKED_SUBJECT), receipt.mail.text);
    assertNoNumber(receipt.mail.text, 'the acknowledgement text');
    assert.ok(decodeEntities(receipt.mail.html ?? '').includes(MASKED_SUBJECT), receipt.mail.html);
    assertNoNumber(receipt.mail.html, 'the acknowledgement HTML');
    assertNoNumber(receipt.raw.toString('utf8'), 'the acknowledgement as sent');
    // What the outbox keeps is what was sent.
    const outbox = await t.db('mail_outbox').whereIn('case_id', t.db('cases').select('id').where({ reference }));
    for (const m of outbox) for (const part of [m.subject, m.text_body, m.html_body]) assertNoNumber(part, 'the outbox');
  });

  it('a case from the API: the list answer masks subject and name, the single-case answer has them in full', async () => {
    const name = `Eva Ek (${SAMORDNING})`;
    const created = await t.request().post('/api/v1/cases').send(newCase({ name, subject: SUBJECT, message: MESSAGE })).expect(201);
    const reference = created.body.reference as string;

    const list = await agent.agent.get('/api/v1/cases?status=all&limit=100').expect(200);
    const item = (list.body.items as { reference: string; subject: string; residentName: string }[]).find((i) => i.reference === reference);
    assert.ok(item, 'the case is in the list');
    assert.equal(item.subject, MASKED_SUBJECT);
    assert.equal(item.residentName, 'Eva Ek (••••••-••••)');
    assertNoNumber(JSON.stringify(list.body), 'the API list');

    const one = await agent.agent.get(`/api/v1/cases/${reference}`).expect(200);
    assert.equal(one.body.subject, SUBJECT);
    assert.equal(one.body.resident.name, name);
    assert.equal(one.body.messages[0].body, MESSAGE);

    // The case view, not the queue, is where staff read it.
    assertNoNumber(await queueRowOf(agent.agent, reference), 'the queue row of an API case');
    const view = await caseView(reference);
    for (const n of [TWELVE, TEN, SAMORDNING]) assert.ok(view.includes(n), `the case view shows ${n}`);
  });

  it('a case by e-mail over SMTP: the queue masks, the acknowledgement masks, the case view shows the mail as written', async () => {
    const sender = uniqueEmail();
    const r = await deliver(smtpPort, plainMail({ from: `Eva Ek <${sender}>`, subject: SUBJECT, body: MESSAGE }), { from: sender, to: [INTAKE] });
    assert.equal(r.code, 250, r.response);
    await t.intakeIdle();
    const c = await t.db('cases as c').join('residents as r', 'r.id', 'c.resident_id').where('r.email', sender).first('c.reference', 'c.subject');
    assert.equal(c.subject, SUBJECT);
    assertNoNumber(await queueRowOf(agent.agent, c.reference), 'the queue row of a mailed case');
    const view = await caseView(c.reference);
    for (const n of [TWELVE, TEN, SAMORDNING]) assert.ok(view.includes(n), `the case view shows ${n}`);

    await t.mailIdle();
    const [receipt] = mailTo(sender, /./);
    assert.ok(receipt, 'the acknowledgement went out');
    assert.ok(receipt.mail.text.includes(MASKED_SUBJECT), receipt.mail.text);
    assertNoNumber(receipt.raw.toString('utf8'), 'the acknowledgement of a mailed case');
  });

  it('the mail an agent sends: the reply and the handover to a department mask the Subject header and the quoted text', async () => {
    const email = uniqueEmail();
    const created = await t.request().post('/api/v1/cases').send(newCase({ email, subject: SUBJECT, message: MESSAGE })).expect(201);
    const reference = created.body.reference as string;
    await agent.agent
      .post(`/agent/cases/${reference}/reply`)
      .type('form')
      .send({ _csrf: agent.csrf, body: `Vi har tagit emot din ansökan för ${TEN}.`, status: 'waiting' })
      .expect(303);
    await agent.agent.post(`/agent/cases/${reference}/forward`).type('form').send({ _csrf: agent.csrf, department: 'samhallsbyggnad', note: `Gäller ${SAMORDNING}.` }).expect(303);
    await t.mailIdle();

    const reply = relay.messages.find((m) => m.to.includes(email) && m.mail.text.includes('Vi har tagit emot din ansökan'));
    assert.ok(reply, 'the reply went out');
    assert.ok(reply.mail.header('subject')!.includes(MASKED_SUBJECT), reply.mail.header('subject'));
    assert.ok(reply.mail.text.includes('Vi har tagit emot din ansökan för ••••••-••••.'), reply.mail.text);
    assertNoNumber(reply.raw.toString('utf8'), 'the reply as sent');

    const handover = relay.messages.find((m) => m.to.includes('samhallsbyggnad@borlange.example') && m.mail.text.includes(reference));
    assert.ok(handover, 'the handover went out');
    assert.ok(handover.mail.header('subject')!.includes(MASKED_SUBJECT), handover.mail.header('subject'));
    assert.ok(handover.mail.text.includes('Gäller ••••••-••••.'), handover.mail.text);
    assertNoNumber(handover.raw.toString('utf8'), 'the handover as sent');

    // The case view keeps what the agent wrote.
    const view = await caseView(reference);
    assert.ok(view.includes(`Vi har tagit emot din ansökan för ${TEN}.`));
    assert.ok(view.includes(`Gäller ${SAMORDNING}.`));
  });

  it('the caller card pushed to the agent who answers lists the caller’s earlier cases with their subjects masked', async () => {
    const phone = '0705559876';
    const created = await t.request().post('/api/v1/cases').send(newCase({ email: undefined, phone, subject: SUBJECT, message: MESSAGE })).expect(201);
    const s = await staffSocket(t, baseUrl, 'agent', 'Agent Anna');
    clients.push(s.client);
    await t.services.auth.setPhoneExtension(s.user.id, '3301');
    const cards: { html: string }[] = [];
    s.client.socket.on('caller', (c: { html: string }) => cards.push(c));
    const ack = await s.client.request('subscribe', { since: await t.services.live.cursor(), queue: true });
    assert.ok(ack.ok, JSON.stringify(ack));
    const now = Date.now();
    await telephonyEvents({
      events: [
        { id: 'pnr-1:o', type: 'call.offered', callId: 'pnr-1', at: new Date(now - 30_000).toISOString(), caller: phone, queue: 'vaxel' },
        { id: 'pnr-1:a', type: 'call.answered', callId: 'pnr-1', at: new Date(now - 1_000).toISOString(), extension: '3301' },
      ],
    });
    await waitUntil(() => cards.length > 0, 'the caller card');
    const html = decodeEntities(cards[0]!.html);
    assert.ok(html.includes(created.body.reference), html);
    assert.ok(html.includes(MASKED_SUBJECT), html);
    assertNoNumber(html, 'the caller card');
  });

  it('the FAQ statistics list residents’ comments with the numbers masked', async () => {
    const article = await t.db('faq_articles').orderBy('id').first('id');
    assert.ok(article, 'the seeded FAQ has articles');
    await t.db('faq_feedback').insert({ article_id: article.id, helpful: false, lang: 'sv', comment: `Fick fel besked, mitt nummer är ${TEN}` });
    const manager = await t.loginAs('manager');
    const page = decodeEntities((await manager.agent.get('/agent/faq-statistik').expect(200)).text);
    assert.ok(page.includes('Fick fel besked, mitt nummer är ••••••-••••'), 'the comment is listed, masked');
    assertNoNumber(page, 'the FAQ statistics');
  });

  it('the log: every line masks the numbers, in messages, values, errors, bindings and the request URL', async () => {
    const lines: string[] = [];
    const logger = createLogger({ logLevel: 'debug' }, { write: (s: string) => void lines.push(s) });
    logger.info({ subject: SUBJECT, nested: { body: MESSAGE, list: [TEN] } }, `case received: ${SUBJECT}`);
    logger.child({ resident: SAMORDNING }).warn('child line');
    logger.error({ err: new Error(`could not parse ${TWELVE}`) }, 'failed');

    // The app's request log, through the same logger: the URL is masked, also with an encoded separator.
    const app = createApp({ ...t.services, logger });
    const supertestLib = (await import('supertest')).default;
    await supertestLib(app).get(`/kontakt?sok=${TWELVE}&annat=121212%2D1212`).expect(200);
    const request = lines.find((l) => l.includes('"msg":"request"'));
    assert.ok(request, `a request line in:\n${lines.join('')}`);
    assert.ok(request.includes('/kontakt?sok=••••••••-••••&annat=••••••%2D••••'), request);

    assert.ok(lines.length >= 4, lines.join(''));
    for (const line of lines) {
      assertNoNumber(line, 'a log line');
      JSON.parse(line); // still one JSON object per line
    }
    const first = JSON.parse(lines[0]!) as { msg: string; subject: string; nested: { body: string; list: string[] } };
    assert.equal(first.msg, `case received: ${MASKED_SUBJECT}`);
    assert.equal(first.subject, MASKED_SUBJECT);
    assert.ok(first.nested.body.includes(MASKED_MESSAGE), first.nested.body);
    assert.deepEqual(first.nested.list, ['••••••-••••']);
    // What is not a personnummer is left as it was: a case number, a phone number, a wrong check digit.
    logger.info({ reference: 'SC-2026-001234', phone: '070-123 45 67', almost: '19121212-1213' }, 'other digits');
    const last = JSON.parse(lines.at(-1)!) as Record<string, string>;
    assert.deepEqual([last.reference, last.phone, last.almost], ['SC-2026-001234', '070-123 45 67', '19121212-1213']);
  });

  it('a URL for the log keeps what is not a personnummer', () => {
    assert.equal(maskPersonnummerInUrl('/agent/cases/SC-2026-001234?sida=2'), '/agent/cases/SC-2026-001234?sida=2');
    assert.equal(maskPersonnummerInUrl('/x?a=121212%2B1212&b=121212%2D1213'), '/x?a=••••••%2B••••&b=121212%2D1213');
  });
});
