import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../server/config.js';
import { splitQuoted } from '../../server/intake/mail-content.js';
import { newCase, startTestApp, type TestApp } from '../support/harness.js';
import { deliver } from '../support/smtp-client.js';

/**
 * Every message of the corpus (test/fixtures/mail) goes through the real SMTP
 * listener and the real processing, and its outcome is checked against the
 * manifest: a new case, a reply threaded onto its case, a new case linked to
 * a long-closed one, a bounce noted on its case, a loop ignored, quarantine,
 * or refusal for size.
 */
interface Entry {
  file: string | null;
  generate?: 'oversize';
  description: string;
  expect: 'created' | 'threaded' | 'new_linked' | 'quarantined' | 'ignored_loop' | 'bounce' | 'rejected_size';
  ack: boolean;
  envelopeFrom?: string | null;
  subjectContains?: string;
  bodyContains?: string;
  quotedContains?: string;
  attachments?: number;
  attachmentsKept?: number;
  inlineImages?: number;
  addressFailing?: boolean;
  hostile?: boolean;
}

const DIR = path.resolve(import.meta.dirname, '../fixtures/mail');
const MANIFEST = JSON.parse(readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as Entry[];
const INTAKE = 'kontaktcenter@borlange.example';
const MAX_MAIL_BYTES = 2 * 1024 * 1024;

describe('the mail corpus through the real SMTP listener', function () {
  this.timeout(180_000);
  let t: TestApp;
  let port: number;
  const vars: Record<string, string> = { INTAKE };
  let existing: { id: number; reference: string };
  let closed: { id: number; reference: string };

  before(async () => {
    const intake = loadConfig({ NODE_ENV: 'test' }, { sessionSecret: randomBytes(32).toString('hex') }).intake;
    t = await startTestApp({ config: { intake: { ...intake, maxMailBytes: MAX_MAIL_BYTES, ackWindowMinutes: 0 } } });
    port = await t.startSmtp();
    const run = randomBytes(4).toString('hex');
    vars.RESIDENT = `karin.${run}@example.com`;
    vars.OTHER = `mallory.${run}@example.net`;
    // The resident's open case, whose acknowledgement the replies answer.
    const open = await t.request().post('/api/v1/cases').send(newCase({ email: vars.RESIDENT, name: 'Karin Resident', subject: 'Bygglov för carport' })).expect(201);
    existing = await t.db('cases').where({ reference: open.body.reference }).first('id', 'reference');
    await t.mailIdle();
    const ack = await t.db('mail_outbox').where({ case_id: existing.id, kind: 'acknowledgement' }).first('message_id');
    vars.REFERENCE = existing.reference;
    vars.OUR_MESSAGE_ID = String(ack.message_id).replace(/^<|>$/g, '');
    // A case of hers closed long ago.
    const old = await t.request().post('/api/v1/cases').send(newCase({ email: vars.RESIDENT, name: 'Karin Resident', subject: 'Gammal fråga' })).expect(201);
    closed = await t.db('cases').where({ reference: old.body.reference }).first('id', 'reference');
    await t.db('cases').where({ id: closed.id }).update({ status: 'closed', closed_at: t.db.raw("now() - interval '400 days'"), resolved_at: t.db.raw("now() - interval '401 days'") });
    vars.CLOSED_REFERENCE = closed.reference;
  });
  after(() => t.close());

  const fill = (text: string, unique: string) => text.replace(/\{\{([A-Z_]+)\}\}/g, (m, name: string) => (name === 'UNIQUE' ? unique : (vars[name] ?? m)));

  it('has at least 40 messages of every kind the issue names', () => {
    const files = MANIFEST.filter((e) => e.file);
    assert.ok(files.length >= 40, `${files.length} messages`);
    for (const kind of ['created', 'threaded', 'new_linked', 'quarantined', 'ignored_loop', 'bounce', 'rejected_size']) {
      assert.ok(MANIFEST.some((e) => e.expect === kind), kind);
    }
    assert.ok(MANIFEST.filter((e) => e.hostile).length >= 4, 'hostile HTML');
  });

  for (const entry of MANIFEST) {
    it(`${entry.file ?? entry.generate}: ${entry.expect} — ${entry.description}`, async () => {
      const unique = `u${randomBytes(5).toString('hex')}`;
      let raw: Buffer;
      if (entry.generate === 'oversize') {
        const filler = randomBytes(Math.ceil((MAX_MAIL_BYTES * 1.2) / 4) * 3).toString('base64').replace(/.{76}/g, '$&\r\n');
        raw = Buffer.from(`From: big.${unique}@example.com\r\nTo: ${INTAKE}\r\nSubject: Stor bilaga\r\nMessage-ID: <${unique}@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n${filler}\r\n`);
      } else {
        raw = Buffer.from(fill(readFileSync(path.join(DIR, entry.file!), 'latin1'), unique), 'latin1');
      }
      const envelopeFrom = entry.envelopeFrom === null || entry.envelopeFrom === undefined ? `sender.${unique}@example.com` : fill(entry.envelopeFrom, unique);
      const casesBefore = Number((await t.db('cases').count<{ n: string }[]>('* as n'))[0]!.n);
      const lastInbound = Number((await t.db('inbound_messages').max<{ m: number | null }[]>('id as m'))[0]!.m ?? 0);

      const answer = await deliver(port, raw, { from: envelopeFrom, to: [INTAKE] });
      if (entry.expect === 'rejected_size') {
        assert.equal(answer.code, 552, answer.response);
        assert.equal(Number((await t.db('inbound_messages').max<{ m: number | null }[]>('id as m'))[0]!.m ?? 0), lastInbound, 'nothing stored');
        return;
      }
      assert.equal(answer.code, 250, answer.response);
      await t.intakeIdle();
      const row = await t.db('inbound_messages').where('id', '>', lastInbound).orderBy('id').first();
      assert.ok(row, 'the message was stored');
      const casesAfter = Number((await t.db('cases').count<{ n: string }[]>('* as n'))[0]!.n);

      if (entry.expect === 'quarantined') {
        assert.equal(row.status, 'quarantined', `status ${row.status}, outcome ${row.outcome}`);
        assert.ok(row.last_error, 'with the reason');
        assert.equal(casesAfter, casesBefore);
        return;
      }
      assert.equal(row.status, 'processed', `status ${row.status}: ${row.last_error}`);
      assert.equal(row.outcome, entry.expect, `outcome ${row.outcome}`);

      if (entry.expect === 'ignored_loop') {
        assert.equal(casesAfter, casesBefore, 'no case');
        assert.equal(row.case_id, null);
        return;
      }
      if (entry.expect === 'bounce') {
        assert.equal(casesAfter, casesBefore, 'a bounce makes no case');
        if (entry.addressFailing === true) {
          assert.equal(row.case_id, existing.id, 'noted on the case whose mail bounced');
          const resident = await t.db('residents').whereRaw('lower(email) = ?', [String(vars.RESIDENT)]).first();
          assert.ok(resident.email_failing_at, 'the address is marked as failing');
          const event = await t.db('case_events').where({ case_id: existing.id, type: 'mail.bounced' }).orderBy('id', 'desc').first();
          assert.ok(event, 'a bounce event on the case');
        }
        return;
      }

      const caseId = Number(row.case_id);
      if (entry.expect === 'threaded') {
        assert.equal(caseId, existing.id, 'joined the resident’s case');
        assert.equal(casesAfter, casesBefore);
      } else {
        assert.equal(casesAfter, casesBefore + 1, 'a new case');
        if (entry.expect === 'new_linked') {
          const c = await t.db('cases').where({ id: caseId }).first();
          assert.equal(Number(c.linked_case_id), closed.id, 'linked to the closed case');
        }
      }
      const message = await t.db('messages').where({ inbound_message_id: row.id }).first();
      assert.ok(message, 'the message is on the case');
      assert.equal(Number(message.case_id), caseId);
      // Compared with white space collapsed: HTML-to-text conversion wraps lines.
      const flat = (s: string) => s.replace(/\s+/g, ' ');
      if (entry.bodyContains) assert.ok(flat(message.body).includes(flat(fill(entry.bodyContains, unique))), `body contains "${entry.bodyContains}":\n${message.body.slice(0, 400)}`);
      if (entry.quotedContains) assert.ok(flat(splitQuoted(message.body).quoted ?? '').includes(flat(entry.quotedContains)), `quoted history contains "${entry.quotedContains}"`);
      if (entry.subjectContains && entry.expect !== 'threaded') {
        const c = await t.db('cases').where({ id: caseId }).first('subject');
        assert.ok(c.subject.includes(fill(entry.subjectContains, unique)), `subject "${c.subject}" contains "${entry.subjectContains}"`);
      }
      const expectedFiles = entry.attachmentsKept ?? (entry.attachments !== undefined ? entry.attachments + (entry.inlineImages ?? 0) : undefined);
      if (expectedFiles !== undefined) {
        const files = await t.db('attachments').where({ message_id: message.id });
        assert.equal(files.length, expectedFiles, `attachments kept: ${files.map((f) => f.filename).join(', ')}`);
        for (const f of files) assert.ok(!/[\\/]/.test(f.filename) && !f.filename.startsWith('.'), `a safe file name: ${f.filename}`);
      }
      if (entry.expect !== 'threaded') {
        const acks = await t.db('mail_outbox').where({ case_id: caseId, kind: 'acknowledgement' });
        assert.equal(acks.length, entry.ack ? 1 : 0, entry.ack ? 'acknowledged' : 'not acknowledged');
      }
      if (message.body_html) {
        for (const bad of ['<script', 'onerror', 'javascript:', '<svg', '<iframe', 'style=']) {
          assert.ok(!message.body_html.toLowerCase().includes(bad), `stored HTML has no ${bad}`);
        }
      }
    });
  }
});
