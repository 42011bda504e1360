import { strict as assert } from 'node:assert';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import type { Config } from '../../server/config.js';
import { bareMessageId, MAX_REFERENCES, threadHeaders } from '../../server/mail/compose.js';
import { createMailStore, type OutboxRow } from '../../server/mail/store.js';
import { openPostgres, type Database } from '../../server/platform/db.js';
import { translate } from '../../server/platform/i18n.js';
import { createLogger } from '../../server/platform/logger.js';
import { createMailTransport, type MailTransport } from '../../server/platform/mail.js';
import { createServices } from '../../server/services.js';
import { databaseKind } from '../support/database.js';
import { newCase, startTestApp, type SignedIn, type TestApp } from '../support/harness.js';
import { closedPort, startRelay, type Relay } from '../support/smtp-relay.js';

/**
 * Outgoing mail as the resident's mail program sees it: a text and an HTML
 * part from the templates, in the resident's language, with user text escaped;
 * threading headers that put every mail of a case in one conversation;
 * Auto-Submitted only on what a machine wrote; no header a name or subject
 * can add; failures shown on the case; and two instances that never send the
 * same mail twice. Every mail goes over SMTP to a real relay (smtp-server).
 */

let seq = 0;
const uniqueEmail = () => `boende.${Date.now().toString(36)}.${++seq}@example.com`;

const FROM = 'Kontaktcenter Borlänge kommun <kontaktcenter@borlange.example>';
const smtpConfig = (smtpUrl: string, extra: { maxAttempts?: number; from?: string } = {}): Partial<Config> => ({
  mail: { smtpUrl, from: extra.from ?? FROM, outboxDir: path.join(tmpdir(), 'sc-unused-outbox'), pollMs: 50, maxAttempts: extra.maxAttempts ?? 8 },
});

async function createCaseViaApi(t: TestApp, overrides: Record<string, unknown> = {}) {
  const body = newCase({ email: uniqueEmail(), ...overrides });
  const res = await t.request().post('/api/v1/cases').send(body).expect(201);
  const token = String(res.body.statusUrl).split('/arende/')[1]!;
  return { reference: res.body.reference as string, token, email: body.email as string, link: res.body.statusUrl as string };
}

const caseIdOf = async (t: TestApp, reference: string) => Number((await t.db('cases').where({ reference }).first('id')).id);

const outboxOf = async (t: TestApp, reference: string): Promise<OutboxRow[]> =>
  t.db<OutboxRow>('mail_outbox').whereIn('case_id', t.db('cases').select('id').where({ reference })).orderBy('id');

async function replyAs(agent: SignedIn, reference: string, body: string) {
  await agent.agent.post(`/agent/cases/${reference}/reply`).type('form').send({ _csrf: agent.csrf, body, status: 'waiting' }).expect(303);
}

const to = (relay: Relay, address: string) => relay.messages.filter((m) => m.to.includes(address));

/** The header lines as sent: every line is a header or the folded continuation of one. */
function headerLines(raw: string): string[] {
  const head = raw.slice(0, raw.search(/\r?\n\r?\n/));
  return head.split(/\r?\n/);
}

/** Tag names in an HTML document. */
const tagsIn = (html: string) => new Set([...html.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)[\s/>]/g)].map((m) => m[1]!.toLowerCase()));
const LAYOUT_TAGS = ['html', 'head', 'meta', 'title', 'body', 'div', 'p', 'strong', 'br', 'a'];

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

describe('outgoing mail: text and HTML parts from the templates', () => {
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

  it('the acknowledgement is multipart/alternative: Swedish text and an HTML document with lang, a real title and the private link, as stored', async () => {
    const c = await createCaseViaApi(t, { name: 'Sara Öberg' });
    await t.mailIdle();
    const [sent] = to(relay, c.email);
    assert.ok(sent);
    assert.match(sent.mail.header('content-type')!, /^multipart\/alternative;/, 'a text and an HTML part');
    const mail = await simpleParser(sent.raw);
    const subject = translate('sv', 'email.ack.subject', { reference: c.reference });
    assert.equal(mail.subject, subject);

    assert.ok(mail.text?.includes('Hej Sara Öberg!'), 'Swedish by default');
    assert.ok(mail.text?.includes(c.link));
    const html = mail.html as string;
    assert.ok(html, 'an HTML part');
    assert.match(html, /^<!DOCTYPE html>\s*<html lang="sv" dir="ltr">/);
    assert.ok(html.includes(`<title>${escapeHtml(subject)}</title>`), 'the title is the subject');
    assert.ok(html.includes(`<a href="${c.link}"`), 'the HTML part links to the case');
    assert.ok(html.includes('Hej Sara Öberg!'));
    assert.ok(html.includes(c.reference));

    const [row] = await outboxOf(t, c.reference);
    assert.equal(row!.html_body?.trim(), html.trim(), 'the HTML part is the stored html_body');
    assert.equal(row!.text_body.trim(), mail.text?.trim(), 'the text part is the stored text_body');
  });

  it('an English case gets both parts in English, with lang="en"', async () => {
    const c = await createCaseViaApi(t, { language: 'en', name: 'Sam Lee' });
    const agent = await t.loginAs('agent', 'Anna Agent');
    await replyAs(agent, c.reference, 'You need to notify us, but no permit is needed.');
    await t.mailIdle();
    const [ack, reply] = await Promise.all(to(relay, c.email).map((m) => simpleParser(m.raw)));
    assert.ok(ack && reply);
    assert.equal(ack.subject, translate('en', 'email.ack.subject', { reference: c.reference }));
    assert.ok(ack.text?.includes('Hello Sam Lee,'));
    assert.match(ack.html as string, /<html lang="en"/);
    assert.ok((ack.html as string).includes('Thank you for contacting'));
    assert.equal(reply.subject, translate('en', 'email.reply.subject', { reference: c.reference, subject: 'Attefallshus' }));
    assert.match(reply.html as string, /<html lang="en"/);
    assert.ok((reply.html as string).includes('You have an answer in your case'));
    assert.ok((reply.html as string).includes(`<a href="${c.link}"`));
    assert.ok(!(reply.html as string).includes('Hej!'), 'no Swedish in the English mail');
  });

  it('user text is escaped in the HTML part; the reply keeps its line breaks and is never HTML; the text part has it as written', async () => {
    const name = '<img src=x onerror=alert(1)> Eve';
    const c = await createCaseViaApi(t, { name, subject: 'Bygglov <script>alert("x")</script>' });
    const agent = await t.loginAs('agent', 'Bo <b>Bold</b>');
    const body = 'Rad ett & två\n<b>fet</b> <a href="javascript:alert(1)">klicka</a>\n<script>alert(2)</script>Rad tre';
    await replyAs(agent, c.reference, body);
    await t.mailIdle();
    const [ack, reply] = await Promise.all(to(relay, c.email).map((m) => simpleParser(m.raw)));
    assert.ok(ack && reply);
    for (const [what, mail] of [
      ['acknowledgement', ack],
      ['reply', reply],
    ] as const) {
      const html = mail.html as string;
      const unexpected = [...tagsIn(html)].filter((tag) => !LAYOUT_TAGS.includes(tag));
      assert.deepEqual(unexpected, [], `${what}: only the template's own tags`);
      assert.doesNotMatch(html, /<script|onerror=|href="javascript:/i, `${what}: nothing that runs`);
      const links = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
      assert.deepEqual([...new Set(links)], [c.link], `${what}: the only link is the private link`);
    }
    assert.ok((ack.html as string).includes('&lt;img src'), 'the name shows as text');
    assert.ok((reply.html as string).includes('Bygglov &lt;script&gt;'), 'the subject shows as text in the title');
    const replyHtml = reply.html as string;
    assert.ok(replyHtml.includes('Rad ett &amp; två<br>&lt;b&gt;fet&lt;/b&gt; &lt;a href'), 'line breaks as <br>, markup as text');
    assert.ok(replyHtml.includes('<br>&lt;script&gt;alert(2)&lt;/script&gt;Rad tre'));
    assert.ok(replyHtml.includes('Bo &lt;b&gt;Bold&lt;/b&gt;'), "the agent's name as text");
    assert.ok(reply.text?.includes(body), 'the text part has the reply exactly as written');
  });
});

describe('outgoing mail: threading headers', () => {
  let relay: Relay;
  let t: TestApp;
  let agent: SignedIn;
  before(async () => {
    relay = await startRelay();
    t = await startTestApp({ config: smtpConfig(relay.url) });
    agent = await t.loginAs('agent', 'Anna Agent');
  });
  after(async () => {
    await t.close();
    await relay.close();
  });

  const idsOf = (relayMessages: Relay['messages']) => relayMessages.map((m) => m.mail.header('message-id')!);

  it('a web case: the first reply answers the acknowledgement, the next one the first reply, References oldest first; each reply message keeps its Message-ID', async () => {
    const c = await createCaseViaApi(t);
    await replyAs(agent, c.reference, 'Första svaret.');
    await replyAs(agent, c.reference, 'Andra svaret.');
    await t.mailIdle();
    const sent = to(relay, c.email);
    assert.equal(sent.length, 3);
    const [ack, first, second] = idsOf(sent) as [string, string, string];
    for (const id of [ack, first, second]) assert.match(id, /^<sc\.[^<>@\s]+@borlange\.example>$/);
    assert.equal(sent[0]!.mail.header('in-reply-to'), undefined, 'the acknowledgement of a web case answers no mail');
    assert.equal(sent[0]!.mail.header('references'), undefined);
    assert.equal(sent[1]!.mail.header('in-reply-to'), ack);
    assert.equal(sent[1]!.mail.header('references'), ack);
    assert.equal(sent[2]!.mail.header('in-reply-to'), first);
    assert.equal(sent[2]!.mail.header('references'), `${ack} ${first}`);
    // A real parser reads them the same way.
    const parsed = await simpleParser(sent[2]!.raw);
    assert.equal(parsed.inReplyTo, first);
    assert.deepEqual([parsed.references].flat(), [ack, first]);

    const rows = await outboxOf(t, c.reference);
    assert.deepEqual(rows.map((r) => [r.in_reply_to, r.references_header]), [
      [null, null],
      [ack, ack],
      [first, `${ack} ${first}`],
    ]);
    const replies = await t.db('messages').where({ case_id: await caseIdOf(t, c.reference), kind: 'reply' }).orderBy('id').pluck('mail_message_id');
    assert.deepEqual(replies, [bareMessageId(first), bareMessageId(second)], 'the reply rows carry the Message-IDs they were mailed with');
  });

  it("mail from the resident: the reply answers their latest mail, References lists theirs and ours by time, and an id no header can carry is dropped", async () => {
    const c = await createCaseViaApi(t);
    const caseId = await caseIdOf(t, c.reference);
    // What the mail processor records for a case that came by mail (stored with or without brackets).
    await t.db('messages').where({ case_id: caseId, kind: 'resident' }).update({ mail_message_id: '<first.1@resident.example>' });
    await replyAs(agent, c.reference, 'Första svaret.');
    await t.mailIdle();
    const token = c.token;
    await t.services.cases.addResidentMessage(token, { message: 'Tack, en fråga till.' });
    const latestResidentMessage = async () => (await t.db('messages').where({ case_id: caseId, kind: 'resident' }).orderBy('id', 'desc').first('id')).id as number;
    await t.db('messages').where({ id: await latestResidentMessage() }).update({ mail_message_id: 'second.2@resident.example' });
    await t.services.cases.addResidentMessage(token, { message: 'Och en till, från ett trasigt mejlprogram.' });
    await t.db('messages').where({ id: await latestResidentMessage() }).update({ mail_message_id: 'x@y\r\nBcc: evil@example.com' });

    await replyAs(agent, c.reference, 'Andra svaret.');
    await t.mailIdle();
    const sent = to(relay, c.email);
    assert.equal(sent.length, 3);
    const [ack, first] = idsOf(sent) as [string, string, string];
    const reply = sent[2]!;
    assert.equal(reply.mail.header('in-reply-to'), '<second.2@resident.example>', "the resident's latest mail with a usable Message-ID");
    assert.equal(reply.mail.header('references'), `<first.1@resident.example> ${ack} ${first} <second.2@resident.example>`);
    assert.deepEqual(reply.to, [c.email], 'no recipient from the hostile id');
    assert.ok(!reply.mail.headers.has('bcc'));
    assert.doesNotMatch(reply.mail.rawHeader, /evil@example\.com/);
  });

  it(`References is capped at ${MAX_REFERENCES} ids: the thread's first mail and the latest`, async () => {
    const c = await createCaseViaApi(t);
    await t.db('messages').where({ case_id: await caseIdOf(t, c.reference), kind: 'resident' }).update({ mail_message_id: 'start@resident.example' });
    for (let i = 1; i <= 12; i++) await t.services.cases.reply(c.reference, agent.user, { body: `Svar ${i}.` });
    await t.mailIdle();
    const sent = to(relay, c.email);
    assert.equal(sent.length, 13);
    const ids = idsOf(sent);
    const lastRefs = sent.at(-1)!.mail.header('references')!.split(' ');
    assert.equal(lastRefs.length, MAX_REFERENCES);
    assert.deepEqual(lastRefs, ['<start@resident.example>', ...ids.slice(-(MAX_REFERENCES - 1) - 1, -1)], 'the first mail, then the latest of ours, oldest first');
    assert.equal(sent.at(-1)!.mail.header('in-reply-to'), '<start@resident.example>', 'still answers the resident');
    assert.ok(headerLines(sent.at(-1)!.mail.raw).every((l) => l.length <= 998), 'no header line too long for SMTP');
  });

  it('trimming keeps the first mail and the parent even when the parent is older than the latest ones', () => {
    const ids = Array.from({ length: 15 }, (_, i) => `m${i}@x`);
    const h = threadHeaders({ ids, parent: 'm3@x' });
    assert.equal(h.in_reply_to, '<m3@x>');
    assert.deepEqual(h.references_header!.split(' '), ['<m0@x>', '<m3@x>', ...ids.slice(-8).map((i) => `<${i}>`)]);
    assert.deepEqual(threadHeaders({ ids: [], parent: null }), { in_reply_to: null, references_header: null });
    assert.deepEqual(threadHeaders({ ids: ['<a@x>', 'a@x', ' <b@x> '], parent: null }), { in_reply_to: '<b@x>', references_header: '<a@x> <b@x>' });
    for (const bad of ['', '<>', 'a b@x', 'a\r\nBcc: x@y', '<a<b@x>', 'x'.repeat(300)]) assert.equal(bareMessageId(bad), undefined, JSON.stringify(bad));
  });

  it("a handover is threaded on earlier handovers to the same department, not on the resident's mails", async () => {
    const c = await createCaseViaApi(t, { category: 'forskoleplats' });
    await t.db('messages').where({ case_id: await caseIdOf(t, c.reference), kind: 'resident' }).update({ mail_message_id: 'resident@example.com' });
    await t.services.cases.forward(c.reference, agent.user, { department: 'utbildning', note: 'Första överlämningen.' });
    await t.services.cases.update(c.reference, agent.user, { status: 'open' });
    await t.services.cases.forward(c.reference, agent.user, { department: 'utbildning', note: 'Andra överlämningen.' });
    await t.mailIdle();
    const handovers = (await outboxOf(t, c.reference)).filter((r) => r.kind === 'handover');
    assert.equal(handovers.length, 2);
    assert.equal(handovers[0]!.in_reply_to, null);
    assert.equal(handovers[1]!.in_reply_to, handovers[0]!.message_id);
    assert.equal(handovers[1]!.references_header, handovers[0]!.message_id);
  });
});

describe('outgoing mail: Auto-Submitted', () => {
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

  it('auto-replied on the acknowledgement, auto-generated on the handover, both with X-Auto-Response-Suppress; none on an agent’s reply', async () => {
    const c = await createCaseViaApi(t, { category: 'forskoleplats' });
    const agent = await t.loginAs('agent', 'Anna Agent');
    await replyAs(agent, c.reference, 'Ett personligt svar.');
    await agent.agent.post(`/agent/cases/${c.reference}/forward`).type('form').send({ _csrf: agent.csrf, department: 'utbildning', note: 'Till er.' }).expect(303);
    await t.mailIdle();
    const rows = await outboxOf(t, c.reference);
    assert.deepEqual(rows.map((r) => [r.kind, r.auto_submitted]), [
      ['acknowledgement', 'auto-replied'],
      ['reply', null],
      ['handover', 'auto-generated'],
    ]);
    const byId = new Map(relay.messages.map((m) => [m.mail.header('message-id'), m.mail]));
    const [ack, reply, handover] = rows.map((r) => byId.get(r.message_id)!);
    assert.equal(ack!.header('auto-submitted'), 'auto-replied');
    assert.equal(ack!.header('x-auto-response-suppress'), 'All');
    assert.equal(handover!.header('auto-submitted'), 'auto-generated');
    assert.equal(handover!.header('x-auto-response-suppress'), 'All');
    assert.ok(!reply!.headers.has('auto-submitted'), 'a person wrote the reply: no Auto-Submitted');
    assert.ok(!reply!.headers.has('x-auto-response-suppress'), 'an out-of-office answer to a personal reply is fine');
  });
});

describe('outgoing mail: header injection', () => {
  it('a resident named "Eve\\r\\nBcc: x@example.com", such a subject and such a MAIL_FROM name add no header and no recipient', async () => {
    const relay = await startRelay();
    const from = 'Kontaktcenter\r\nBcc: x@example.com\r\nX-Injected: yes <kontaktcenter@borlange.example>';
    const t = await startTestApp({ config: smtpConfig(relay.url, { from }) });
    try {
      const name = 'Eve\r\nBcc: x@example.com';
      const c = await createCaseViaApi(t, { name, subject: 'Fråga\r\nBcc: x@example.com\r\nX-Injected: yes' });
      const agent = await t.loginAs('agent', 'Agent\r\nBcc: x@example.com');
      await replyAs(agent, c.reference, 'Svar.\r\nBcc: x@example.com');
      await t.mailIdle();
      assert.equal(relay.messages.length, 2, 'the acknowledgement and the reply, nothing else');
      for (const m of relay.messages) {
        assert.deepEqual(m.to, [c.email], 'the resident is the only recipient');
        assert.equal(m.from, 'kontaktcenter@borlange.example');
        const lines = headerLines(m.mail.raw);
        const bad = lines.filter((l) => !/^[A-Za-z0-9-]+: /.test(l) && !/^[ \t]/.test(l));
        assert.deepEqual(bad, [], 'every header line is a header or a folded continuation');
        assert.ok(!m.mail.headers.has('bcc'));
        assert.ok(!m.mail.headers.has('x-injected'));
        for (const h of ['from', 'to', 'subject', 'message-id']) assert.equal(m.mail.headers.get(h)?.length, 1, `one ${h} header`);
        const parsed = await simpleParser(m.raw);
        assert.deepEqual(
          [parsed.from?.value].flat().map((a) => a?.address),
          ['kontaktcenter@borlange.example'],
          'From has one address, the configured one',
        );
        assert.match(parsed.from?.value[0]?.name ?? '', /^Kontaktcenter Bcc: x@example\.com X-Injected: yes$/, 'the name stays a name, on one line');
        assert.match(m.mail.header('message-id')!, /@borlange\.example>$/, 'the Message-ID domain is the address’s, not the name’s');
        assert.doesNotMatch(m.mail.header('subject')!, /[\r\n]/);
      }
      assert.ok(relay.messages[0]!.mail.text.includes('Hej Eve'), 'the name is in the text, where it cannot do harm');
    } finally {
      await t.close();
      await relay.close();
    }
  });
});

describe('outgoing mail: failures are visible on the case', () => {
  it('a mail waiting for a retry shows to, subject, attempts, error and next attempt; one given up shows as failed; a delivered one not at all', async () => {
    const relay = await startRelay();
    const t = await startTestApp({ config: smtpConfig(relay.url, { maxAttempts: 2 }) });
    try {
      const agent = await t.loginAs('agent');
      relay.refuse = true;
      const c = await createCaseViaApi(t, { subject: 'Bygglov för carport' });
      await t.mailIdle();
      let [row] = await outboxOf(t, c.reference);
      assert.equal(row!.status, 'pending');
      assert.equal(row!.attempts, 1);

      let page = (await agent.agent.get(`/agent/cases/${c.reference}`).expect(200)).text;
      const section = () => /<section[^>]*id="mail-status"[\s\S]*?<\/section>/.exec(page)?.[0];
      let s = section();
      assert.ok(s, 'the case page lists the mail');
      assert.equal(page.match(/id="mail-status"/g)?.length, 1, 'once');
      assert.ok(s.includes(translate('sv', 'agent.mail_status.title')));
      assert.ok(s.includes(c.email), 'to');
      assert.ok(s.includes(escapeHtml(row!.subject)), 'subject');
      assert.match(s, /<dd>1<\/dd>/, 'attempts');
      assert.match(s, /451|try again later/i, 'the last error');
      assert.ok(s.includes(translate('sv', 'agent.mail_status.retrying')));
      assert.ok(s.includes(`<time datetime="${new Date(row!.next_attempt_at).toISOString()}"`), 'when it is tried next');

      // The error is the relay's text: shown as text.
      await t.db('mail_outbox').where({ id: row!.id }).update({ last_error: '550 <img src=x onerror=alert(1)>' });
      page = (await agent.agent.get(`/agent/cases/${c.reference}`).expect(200)).text;
      assert.ok(section()!.includes('550 &lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;'));

      // The last attempt fails too: given up, no next attempt.
      await t.db('mail_outbox').where({ id: row!.id }).update({ next_attempt_at: t.db.raw("now() - interval '1 second'") });
      await t.mailIdle();
      [row] = await outboxOf(t, c.reference);
      assert.equal(row!.status, 'failed');
      page = (await agent.agent.get(`/agent/cases/${c.reference}`).expect(200)).text;
      s = section();
      assert.ok(s);
      assert.ok(s.includes(translate('sv', 'agent.mail_status.failed')));
      assert.match(s, /<dd>2<\/dd>/);
      assert.ok(!s.includes(translate('sv', 'agent.mail_status.next')), 'no next attempt after giving up');

      // In English too.
      page = (await agent.agent.get(`/agent/cases/${c.reference}?lang=en`).expect(200)).text;
      assert.ok(section()!.includes(translate('en', 'agent.mail_status.title')));
      assert.ok(section()!.includes(translate('en', 'agent.mail_status.failed')));
      await agent.agent.get(`/agent/cases/${c.reference}?lang=sv`).expect(200);

      // A case whose mail went out shows nothing.
      relay.refuse = false;
      const ok = await createCaseViaApi(t);
      await t.mailIdle();
      assert.equal((await outboxOf(t, ok.reference))[0]!.status, 'sent');
      page = (await agent.agent.get(`/agent/cases/${ok.reference}`).expect(200)).text;
      assert.equal(section(), undefined);

      // The query: by id or reference; everything, or only what did not arrive.
      const store = t.services.mail.store;
      const okId = await caseIdOf(t, ok.reference);
      assert.equal((await store.listForCase(okId)).length, 1);
      assert.equal((await store.listForCase(okId, { undeliveredOnly: true })).length, 0);
      assert.deepEqual(await store.listForCase(c.reference, { undeliveredOnly: true }), await store.listForCase(await caseIdOf(t, c.reference), { undeliveredOnly: true }));
    } finally {
      await t.close();
      await relay.close();
    }
  });

  it('a mail not yet tried (pending, no attempts) is not listed as a problem', async () => {
    const port = await closedPort();
    const t = await startTestApp({ config: smtpConfig(`smtp://127.0.0.1:${port}`) });
    try {
      await t.services.mail.worker.stop();
      const c = await createCaseViaApi(t);
      const rows = await t.services.mail.store.listForCase(c.reference);
      assert.deepEqual(rows.map((r) => [r.status, r.attempts]), [['pending', 0]]);
      assert.deepEqual(await t.services.mail.store.listForCase(c.reference, { undeliveredOnly: true }), []);
    } finally {
      await t.close();
    }
  });
});

/** A transport that counts what it sent, to see that both workers took part. */
function counting(inner: MailTransport): MailTransport & { sent: string[] } {
  const sent: string[] = [];
  return {
    kind: inner.kind,
    sent,
    async send(m) {
      await inner.send(m);
      sent.push(m.messageId);
    },
    close: () => inner.close(),
  };
}

describe('outgoing mail: several instances', () => {
  it('two instances, each with its own worker, on one database: 30 queued mails each arrive exactly once', async function () {
    this.timeout(60_000);
    const relay = await startRelay();
    relay.delayMs = 5;
    const config = smtpConfig(relay.url);
    const first = counting(createMailTransport(config as Config));
    const t = await startTestApp({ config, transport: first });
    let other: Database | undefined;
    const second = counting(createMailTransport(t.config));
    // On PostgreSQL a second pool, as a second instance has; embedded, the one database both share.
    if (databaseKind === 'postgres') other = openPostgres(t.databaseUrl!, 4);
    const instance2 = createServices({ config: t.config, db: other?.knex ?? t.db, logger: createLogger(t.config), transport: second });
    try {
      await t.services.mail.worker.stop();
      for (let i = 0; i < 3; i++) await Promise.all(Array.from({ length: 10 }, () => createCaseViaApi(t)));
      const queued = await t.db<OutboxRow>('mail_outbox').where({ status: 'pending' }).pluck('message_id');
      assert.equal(queued.length, 30);

      t.services.mail.worker.start();
      instance2.mail.worker.start();
      const deadline = Date.now() + 30_000;
      while ((await t.services.mail.store.countPending()) > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      // Both poll again (every 50 ms) a few times: nothing more goes out.
      await new Promise((r) => setTimeout(r, 300));
      await Promise.all([t.mailIdle(), instance2.mail.worker.idle()]);

      const arrived = relay.messages.map((m) => m.mail.header('message-id')!);
      const counts = new Map<string, number>();
      for (const id of arrived) counts.set(id, (counts.get(id) ?? 0) + 1);
      assert.deepEqual([...counts].filter(([, n]) => n !== 1), [], 'no Message-ID arrived twice');
      assert.deepEqual([...counts.keys()].sort(), [...queued].sort(), 'every queued mail arrived');
      assert.equal(arrived.length, 30);
      assert.equal(first.sent.length + second.sent.length, 30);
      assert.ok(first.sent.length > 0 && second.sent.length > 0, `both workers sent (${first.sent.length} + ${second.sent.length})`);
      const rows = await t.db<OutboxRow>('mail_outbox').select('status', 'attempts');
      assert.ok(rows.every((r) => r.status === 'sent' && r.attempts === 1), 'each sent once, on its first attempt');
    } finally {
      await instance2.mail.worker.stop();
      second.close();
      await other?.close();
      await t.close();
      await relay.close();
    }
  });

  it('concurrent claims from two stores never hand out the same mail twice', async () => {
    const t = await startTestApp();
    let other: Database | undefined;
    try {
      await t.services.mail.worker.stop();
      if (databaseKind === 'postgres') other = openPostgres(t.databaseUrl!, 4);
      const a = t.services.mail.store;
      const b = createMailStore(other?.knex ?? t.db);
      await t.db.transaction(async (trx) => {
        for (let i = 0; i < 40; i++) {
          await a.enqueue(trx, { case_id: null, kind: 'test', to_address: `n${i}@example.com`, subject: `Test ${i}`, text_body: 'x', message_id: `<claim.${i}.${Date.now()}@borlange.example>` });
        }
      });
      const claims = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? b : a).claimDue(4, 60_000)));
      const ids = claims.flat().map((r) => r.id);
      assert.equal(new Set(ids).size, ids.length, 'no mail claimed twice');
      assert.equal(ids.length, 40, 'all claimed (12 claims of up to 4)');
      assert.deepEqual(await a.claimDue(10, 60_000), [], 'leased mails are not due');
    } finally {
      await other?.close();
      await t.close();
    }
  });
});
