import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import type { AuthUser } from '../../server/auth/roles.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { createRetentionJob } from '../../server/retention/job.js';
import { createRetentionStore } from '../../server/retention/store.js';
import { type Services } from '../../server/services.js';
import { databaseKind } from '../support/database.js';
import { cliEnv, runCli, showRun as show, withEmbedded } from '../support/cli.js';
import { csrfFrom, startTestApp, type SignedIn, type TestApp } from '../support/harness.js';

/**
 * Retention (gallring) against a real database: hand-built finished cases at
 * the edges of the rules, a dry run that lists exactly the cases that would
 * go and writes nothing, a run that removes their messages, files, raw mail
 * and personal data but leaves every statistic as it was, the kept run
 * records, two runs at once, the daily job shared by two instances, the CLI
 * as its own process, and the legal hold on the case page.
 */

const DAY = 86_400_000;
const ago = (days: number, now: Date) => new Date(now.getTime() - days * DAY);

/** Every table's row count, to show that something wrote nothing at all. */
async function allCounts(db: Knex): Promise<Record<string, number>> {
  const { rows } = await db.raw<{ rows: { table_name: string }[] }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const out: Record<string, number> = {};
  for (const { table_name } of rows) out[table_name] = Number((await db(table_name).count<{ n: string }[]>('* as n'))[0]!.n);
  return out;
}

/** A fingerprint of the tables a removal changes in place (rows updated, not deleted). */
async function contents(db: Knex): Promise<string> {
  const parts: string[] = [];
  for (const table of ['cases', 'residents', 'case_events', 'callbacks', 'callback_attempts', 'calls', 'call_events', 'retention_rules']) {
    const { rows } = await db.raw<{ rows: { h: string | null }[] }>(`SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS h FROM ${table} t`);
    parts.push(`${table}:${rows[0]!.h}`);
  }
  return parts.join(' ');
}

interface Built {
  id: number;
  reference: string;
  residentId: number;
  storageKey: string;
  inboundId: number;
}

/**
 * A case as it would look after a life of use, then moved back in time:
 * the resident's web message with an attachment (a real file), a reply, the
 * acknowledgement and reply mail, a raw inbound mail, a participant, a
 * personnummer, and (optionally) a callback with an attempt's note and the
 * missed call it came from. `finished`: days before `now` it was closed
 * (or resolved, for status 'resolved'); status 'open' is left open.
 */
async function buildCase(
  s: Services,
  actor: AuthUser,
  o: { category: string; status: 'open' | 'resolved' | 'closed'; finished: number; now: Date; email?: string; department?: string; callback?: boolean },
): Promise<Built> {
  const { db } = s;
  const email = o.email ?? `resident.${randomBytes(4).toString('hex')}@example.com`;
  const created = await s.cases.createCase({ name: 'Sara Öberg', email, category: o.category, subject: `Fråga om ${o.category}`, message: 'Mitt personnummer är 19121212-1212 och jag bor på Storgatan 1.' }, { channel: 'web' });
  const ref = created.reference;
  await s.cases.reply(ref, actor, { body: 'Hej Sara, här är svaret.', status: 'waiting' });
  if (o.department) await s.cases.forward(ref, actor, { department: o.department, note: 'Till förvaltningen, Saras fråga.' });
  if (o.status !== 'open') await s.cases.update(ref, actor, { status: 'resolved' });
  if (o.status === 'closed') await s.cases.update(ref, actor, { status: 'closed' });

  const finishedAt = ago(o.finished, o.now);
  const createdAt = new Date(finishedAt.getTime() - 2 * DAY);
  await db('cases')
    .where({ id: created.id })
    .update({
      created_at: createdAt,
      queue_at: createdAt,
      personnummer: '191212121212',
      ...(o.status === 'open' ? {} : { resolved_at: o.status === 'closed' ? new Date(finishedAt.getTime() - DAY) : finishedAt, first_response_at: new Date(createdAt.getTime() + 3_600_000) }),
      ...(o.status === 'closed' ? { closed_at: finishedAt } : {}),
    });
  const c = await db('cases').where({ id: created.id }).first<{ resident_id: number }>('resident_id');
  const firstMessage = await db('messages').where({ case_id: created.id, kind: 'resident' }).first<{ id: number }>('id');

  const publicId = randomBytes(12).toString('base64url');
  const storageKey = `2024-01-01/${publicId}`;
  const file = s.attachments.pathOf(storageKey);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, 'Ritning över attefallshuset, med Saras namn.');
  await db('attachments').insert({ case_id: created.id, message_id: firstMessage.id, public_id: publicId, filename: 'ritning.txt', content_type: 'text/plain; charset=utf-8', size_bytes: 44, sha256: 'a'.repeat(64), storage_key: storageKey });
  const [inbound] = await db('inbound_messages')
    .insert({ source: 'smtp', recipient: 'kontaktcenter@borlange.example', envelope_from: email, message_id: `${publicId}@example.com`, raw: Buffer.from(`From: ${email}\r\n\r\nHej`), size_bytes: 20, sha256: 'b'.repeat(64), status: 'processed', outcome: 'threaded', case_id: created.id })
    .returning('id');
  await db('messages').where({ id: firstMessage.id }).update({ inbound_message_id: (inbound as { id: number }).id });
  await db('case_participants').insert({ case_id: created.id, email: `kopia.${publicId}@example.com` });

  if (o.callback) {
    const callId = `call-${publicId}`;
    const [cb] = await db('callbacks')
      .insert({ case_id: created.id, phone: '070-123 45 67', window_start: createdAt, window_end: new Date(createdAt.getTime() + 3_600_000), status: 'completed', attempts: 1, max_attempts: 3, next_attempt_at: createdAt, source: 'telephony', call_id: callId })
      .returning('id');
    await db('callback_attempts').insert({ callback_id: (cb as { id: number }).id, user_id: actor.id, result: 'reached', note: 'Sara ringer tillbaka om grannens bygge.' });
    await db('calls').insert({ call_id: callId, caller: '+46701234567', state: 'ended', outcome: 'abandoned', offered_at: createdAt, ended_at: createdAt, callback_id: (cb as { id: number }).id });
    await db('call_events').insert({ event_id: `ev-${publicId}`, call_id: callId, type: 'call.offered', occurred_at: createdAt, payload: JSON.stringify({ id: `ev-${publicId}`, type: 'call.offered', callId, caller: '+46701234567', queue: 'vaxel', note: 'fritext' }) });
  }
  return { id: created.id, reference: ref, residentId: c.resident_id, storageKey, inboundId: (inbound as { id: number }).id };
}

async function addRule(s: Services, rule: { category?: string; department?: string; days: number }): Promise<number> {
  return (await s.retention.addRule({ ...rule, days: String(rule.days) }, null)).id;
}

describe('retention (gallring)', function () {
  this.timeout(180_000);
  let t: TestApp;
  let s: Services;
  let actor: AuthUser;
  const now = new Date();
  let cases: Record<string, Built>;
  let rules: { bygglov: number; teknik: number };

  before(async () => {
    t = await startTestApp();
    s = t.services;
    actor = await s.auth.createUser({ email: 'handlaggare@test.example', name: 'Hanna Handläggare', role: 'agent', password: 'a long test password' });
    const shared = `delad.${randomBytes(4).toString('hex')}@example.com`;
    const lonely = `ensam.${randomBytes(4).toString('hex')}@example.com`;
    cases = {
      // bygglov is kept 730 days: one day past the cutoff goes, one day short stays.
      pastCutoff: await buildCase(s, actor, { category: 'bygglov', status: 'closed', finished: 731, now, email: shared, callback: true }),
      beforeCutoff: await buildCase(s, actor, { category: 'bygglov', status: 'closed', finished: 729, now, email: shared }),
      // Resolved and never closed: finished when it was resolved.
      resolvedOnly: await buildCase(s, actor, { category: 'bygglov', status: 'resolved', finished: 740, now, email: lonely }),
      openOld: await buildCase(s, actor, { category: 'bygglov', status: 'open', finished: 1500, now }),
      held: await buildCase(s, actor, { category: 'bygglov', status: 'closed', finished: 800, now }),
      noRule: await buildCase(s, actor, { category: 'forskoleplats', status: 'closed', finished: 1400, now }),
      // Forwarded to teknik (kept 1000 days): the longer of the topic's 730 and the department's 1000 wins.
      topicAndDepartment: await buildCase(s, actor, { category: 'bygglov', status: 'closed', finished: 900, now, department: 'teknik' }),
      departmentOnly: await buildCase(s, actor, { category: 'ovrigt', status: 'closed', finished: 1001, now, department: 'teknik' }),
    };
    await t.db('cases').where({ id: cases.held!.id }).update({ legal_hold: true, legal_hold_reason: 'Tvist i förvaltningsrätten' });
    rules = { bygglov: await addRule(s, { category: 'bygglov', days: 730 }), teknik: await addRule(s, { department: 'teknik', days: 1000 }) };
  });
  after(async () => {
    await t.close();
  });

  const GOING = ['pastCutoff', 'resolvedOnly', 'departmentOnly'];

  it('with no rule, nothing is due', async () => {
    const other = await startTestApp();
    try {
      const a = await other.services.auth.createUser({ email: 'x@test.example', name: 'X', role: 'agent', password: 'a long test password' });
      await buildCase(other.services, a, { category: 'bygglov', status: 'closed', finished: 5000, now });
      const p = await other.services.retention.plan(now);
      assert.deepEqual([p.rules.length, p.going.length, p.held.length], [0, 0, 0]);
      const r = await other.services.retention.run({ trigger: 'cli', now });
      assert.equal(r.removed, 0);
      assert.equal(Number((await other.db('retention_runs').count<{ n: string }[]>('* as n'))[0]!.n), 0, 'no rule, no record');
      assert.equal(Number((await other.db('cases').whereNotNull('anonymized_at').count<{ n: string }[]>('* as n'))[0]!.n), 0);
    } finally {
      await other.close();
    }
  });

  it('the dry run lists exactly the cases that would go, the held one as held, and writes nothing', async () => {
    const counts = await allCounts(t.db);
    const before = await contents(t.db);
    const p = await s.retention.plan(now);
    assert.deepEqual(p.going.map((c) => c.reference).sort(), GOING.map((k) => cases[k]!.reference).sort());
    assert.deepEqual(p.held.map((c) => c.reference), [cases.held!.reference]);
    const byRef = new Map(p.going.map((c) => [c.reference, c]));
    assert.equal(byRef.get(cases.pastCutoff!.reference)!.rule_id, rules.bygglov);
    assert.equal(byRef.get(cases.departmentOnly!.reference)!.rule_id, rules.teknik);
    assert.equal(byRef.get(cases.resolvedOnly!.reference)!.category_slug, 'bygglov');
    assert.match(byRef.get(cases.pastCutoff!.reference)!.rule_text, /bygglov.*730 dagar/);
    assert.deepEqual(await allCounts(t.db), counts, 'every table has as many rows as before');
    assert.equal(await contents(t.db), before, 'and the same rows');
  });

  let reportBefore: unknown;
  const reportQuery = { from: ago(1800, now).toISOString().slice(0, 10), to: now.toISOString().slice(0, 10) };

  it('the run removes the due cases: messages, files, raw mail, outgoing mail, participants, notes, numbers and text', async () => {
    reportBefore = await s.reports.report(reportQuery, { withTables: true, now });
    for (const k of GOING) assert.ok(existsSync(s.attachments.pathOf(cases[k]!.storageKey)), 'the file is there before');
    // The search index holds copies of the texts (what a search brings in): they go too.
    await s.caseSearch.catchUp();
    const searchTexts = (caseId: number) => t.db('search_texts').where({ case_id: caseId }).orderBy(['kind', 'source_id']).select('kind', 'body');
    for (const k of GOING) assert.ok((await searchTexts(cases[k]!.id)).some((r) => r.kind === 'message'), `${k}: indexed for search before`);
    const seen: string[] = [];
    const off = s.bus.subscribe((e) => seen.push(`${e.reference} ${e.type}`));
    const r = await s.retention.run({ trigger: 'cli', now });
    off();
    assert.equal(r.removed, 3);
    assert.equal(r.held, 1);
    assert.deepEqual(seen.sort(), GOING.map((k) => `${cases[k]!.reference} case.anonymized`).sort(), 'one live event per removed case');

    for (const k of GOING) {
      const c = cases[k]!;
      const row = await t.db('cases').where({ id: c.id }).first();
      assert.equal(row.subject, '[gallrad]', k);
      assert.equal(row.personnummer, null);
      assert.ok(row.anonymized_at);
      assert.equal(row.legal_hold_reason, null);
      assert.notEqual(row.category_id, null, 'topic kept');
      assert.ok(row.created_at && row.resolved_at, 'timestamps kept');
      for (const table of ['messages', 'attachments', 'mail_outbox', 'case_participants', 'inbound_messages']) {
        assert.equal(Number((await t.db(table).where({ case_id: c.id }).count<{ n: string }[]>('* as n'))[0]!.n), 0, `${k}: no ${table} left`);
      }
      assert.equal(await t.db('inbound_messages').where({ id: c.inboundId }).first(), undefined, 'the raw mail is gone');
      assert.deepEqual(await searchTexts(c.id), [], `${k}: nothing of it left in the search index`);
      assert.equal(existsSync(s.attachments.pathOf(c.storageKey)), false, `${k}: the stored file is gone`);
      const events = (await t.db('case_events').where({ case_id: c.id }).orderBy('id')) as { type: string; payload: Record<string, unknown>; internal: boolean }[];
      assert.ok(events.length >= 4, 'the events stay');
      const text = JSON.stringify(events.map((e) => e.payload));
      for (const secret of ['Sara', 'Fråga om', 'Till förvaltningen', '070', '4670', '@example.com']) assert.ok(!text.includes(secret), `${k}: "${secret}" is gone from the event payloads: ${text}`);
      assert.ok(events.some((e) => e.type === 'status.changed' && e.payload.to === 'resolved'), 'status changes keep from/to');
      const last = events.at(-1)!;
      assert.deepEqual([last.type, last.internal, last.payload], ['case.anonymized', true, { rule_id: k === 'departmentOnly' ? rules.teknik : rules.bygglov }]);
    }
    // The index, caught up again, has only the placeholder.
    await s.caseSearch.catchUp();
    for (const k of GOING) assert.deepEqual(await searchTexts(cases[k]!.id), [{ kind: 'subject', body: '[gallrad]' }], k);
    const cb = await t.db('callbacks').where({ case_id: cases.pastCutoff!.id }).first();
    assert.equal(cb.phone, '');
    assert.equal(cb.phone_key, null);
    assert.equal((await t.db('callback_attempts').where({ callback_id: cb.id }).first()).note, '');
    const call = await t.db('calls').where({ callback_id: cb.id }).first();
    assert.deepEqual([call.caller, call.caller_key, call.outcome], [null, null, 'abandoned']);
    const callEvent = await t.db('call_events').where({ call_id: call.call_id }).first();
    assert.deepEqual(callEvent.payload, { id: callEvent.event_id, type: 'call.offered', callId: call.call_id, queue: 'vaxel' });
  });

  it('the resident is scrubbed only when no case of theirs is left unremoved', async () => {
    const shared = await t.db('residents').where({ id: cases.pastCutoff!.residentId }).first();
    assert.notEqual(shared.name, '[gallrad]', 'the resident of a removed case who has a live one keeps their details');
    assert.ok(shared.email);
    const lonely = await t.db('residents').where({ id: cases.resolvedOnly!.residentId }).first();
    assert.deepEqual([lonely.name, lonely.email, lonely.phone, lonely.phone_key], ['[gallrad]', null, null, null]);
  });

  it('the cases that stay are untouched: short of the cutoff, open, held, no rule, a longer department rule', async () => {
    for (const k of ['beforeCutoff', 'openOld', 'held', 'noRule', 'topicAndDepartment']) {
      const c = cases[k]!;
      const row = await t.db('cases').where({ id: c.id }).first();
      assert.equal(row.anonymized_at, null, k);
      assert.equal(row.personnummer, '191212121212', k);
      assert.ok(existsSync(s.attachments.pathOf(c.storageKey)), `${k}: its file stays`);
      assert.ok(await t.db('messages').where({ case_id: c.id }).first(), `${k}: its messages stay`);
    }
  });

  it('the history report counts the removed cases exactly as before (volumes, resolution times, everything)', async () => {
    const after = await s.reports.report(reportQuery, { withTables: true, now });
    assert.ok((after as { volumes: { total: number } }).volumes.total >= 8, 'the cases are in the period');
    assert.deepEqual(after, reportBefore);
  });

  it('records one run row per active rule, with its count, and the rows cannot be changed or deleted', async () => {
    const runs = (await t.db('retention_runs').orderBy('rule_id')) as { id: number; rule_id: number; rule_text: string; trigger: string; case_count: number; started_at: Date; finished_at: Date }[];
    assert.deepEqual(
      runs.map((r) => [r.rule_id, r.trigger, r.case_count]),
      [
        [rules.bygglov, 'cli', 2],
        [rules.teknik, 'cli', 1],
      ],
    );
    assert.match(runs[0]!.rule_text, /Regel \d+: ärenden i ämnet Bygglov \(bygglov\) gallras 730 dagar/);
    assert.ok(runs[0]!.finished_at >= runs[0]!.started_at);
    await assert.rejects(t.db('retention_runs').where({ id: runs[0]!.id }).update({ case_count: 0 }), /never changed or deleted/);
    await assert.rejects(t.db('retention_runs').where({ id: runs[0]!.id }).delete(), /never changed or deleted/);
    assert.equal(Number((await t.db('retention_runs').count<{ n: string }[]>('* as n'))[0]!.n), 2);
  });

  it('a second run finds nothing more and records zeros', async () => {
    const r = await s.retention.run({ trigger: 'cli', now });
    assert.equal(r.removed, 0);
    assert.deepEqual(r.perRule.map((p) => p.count), [0, 0]);
    assert.equal(Number((await t.db('retention_runs').where({ case_count: 0 }).count<{ n: string }[]>('* as n'))[0]!.n), 2);
  });

  it('two runs at once remove each case once, and their counts add up', async () => {
    const email = `parallell.${randomBytes(4).toString('hex')}@example.com`;
    const batch: Built[] = [];
    for (let i = 0; i < 6; i++) batch.push(await buildCase(s, actor, { category: 'bygglov', status: 'closed', finished: 731 + i, now, email: i < 4 ? email : undefined }));
    const runsBefore = Number((await t.db('retention_runs').count<{ n: string }[]>('* as n'))[0]!.n);
    const [a, b] = await Promise.all([s.retention.run({ trigger: 'cli', now }), s.retention.run({ trigger: 'cli', now })]);
    assert.equal(a.removed + b.removed, 6, `removed ${a.removed} + ${b.removed}`);
    for (const c of batch) {
      const n = Number((await t.db('case_events').where({ case_id: c.id, type: 'case.anonymized' }).count<{ n: string }[]>('* as n'))[0]!.n);
      assert.equal(n, 1, `${c.reference} removed once`);
    }
    const newRuns = (await t.db('retention_runs').orderBy('id').offset(runsBefore)) as { rule_id: number; case_count: number }[];
    assert.equal(newRuns.length, 4, 'each run recorded each active rule');
    assert.equal(newRuns.filter((r) => r.rule_id === rules.bygglov).reduce((sum, r) => sum + r.case_count, 0), 6);
    const resident = await t.db('residents').where({ id: batch[0]!.residentId }).first();
    assert.equal(resident.name, '[gallrad]', 'the resident whose four cases went in two runs at once is scrubbed');
  });

  it('the daily job: not before its time, once per day however many instances look, again the next day', async () => {
    const config = { retention: { runAt: '02:30' }, calendar: { timeZone: 'Europe/Stockholm' } };
    const one = createRetentionJob({ service: s.retention, store: retentionStoreOf(s), logger: s.logger, config, instance: 'one' });
    const two = createRetentionJob({ service: s.retention, store: retentionStoreOf(s), logger: s.logger, config, instance: 'two' });
    // 01:00 UTC is 02:00 in Stockholm in winter: before the run time.
    const early = new Date('2031-01-15T01:00:00Z');
    const late = new Date('2031-01-15T01:45:00Z');
    assert.equal(one.dueDay(early), undefined);
    assert.equal(one.dueDay(late), '2031-01-15');
    const scheduledBefore = Number((await t.db('retention_runs').where({ trigger: 'schedule' }).count<{ n: string }[]>('* as n'))[0]!.n);
    assert.equal(await one.tick(early), false);
    const ran = await Promise.all([one.tick(late), two.tick(late)]);
    assert.deepEqual(ran.sort(), [false, true], 'one of the two instances ran it');
    assert.equal(await two.tick(new Date('2031-01-15T20:00:00Z')), false, 'not twice in a day');
    const scheduled = Number((await t.db('retention_runs').where({ trigger: 'schedule' }).count<{ n: string }[]>('* as n'))[0]!.n);
    assert.equal(scheduled - scheduledBefore, 2, 'one record per active rule');
    assert.equal(await two.tick(new Date('2031-01-16T02:00:00Z')), true, 'the next day');
    const claims = (await t.db('retention_schedule').orderBy('run_date')) as { run_date: unknown; finished_at: Date | null; error: string | null }[];
    assert.equal(claims.length, 2);
    assert.ok(claims.every((c) => c.finished_at && !c.error));
  });

  it('the daily run is configured by RETENTION_ENABLED and RETENTION_RUN_AT, and a wrong time stops the start', () => {
    const secret = { SESSION_SECRET: randomBytes(32).toString('hex'), DATABASE_URL: 'postgres://x@localhost/x' };
    assert.deepEqual(loadConfig({ ...secret, NODE_ENV: 'production' }).retention, { enabled: true, runAt: '02:30' });
    assert.deepEqual(loadConfig({ ...secret, NODE_ENV: 'test' }).retention, { enabled: false, runAt: '02:30' }, 'off in tests unless a test starts it');
    assert.deepEqual(loadConfig({ ...secret, RETENTION_ENABLED: 'false', RETENTION_RUN_AT: '23:05' }).retention, { enabled: false, runAt: '23:05' });
    assert.throws(() => loadConfig({ ...secret, RETENTION_RUN_AT: '25:00' }), (err: Error) => err instanceof ConfigError && /RETENTION_RUN_AT: must be a time of day as HH:MM/.test(err.message));
  });

  describe('legal hold on the case page', () => {
    let manager: SignedIn;
    let agent: SignedIn;
    let ref: string;

    before(async () => {
      manager = await t.loginAs('manager', 'Maja Chef');
      agent = await t.loginAs('agent', 'Agnes Agent');
      ref = (await buildCase(s, actor, { category: 'bygglov', status: 'closed', finished: 2000, now })).reference;
    });

    const page = async (who: SignedIn) => (await who.agent.get(`/agent/cases/${ref}`).expect(200)).text;

    it('an agent sees whether a case is held but gets 403 placing or lifting a hold, and nothing is written', async () => {
      const html = await page(agent);
      assert.match(html, /id="legal-hold-title"/);
      assert.doesNotMatch(html, /action="\/agent\/cases\/[^"]+\/hold"/, 'no form for an agent');
      const events = Number((await t.db('case_events').count<{ n: string }[]>('* as n'))[0]!.n);
      await agent.agent.post(`/agent/cases/${ref}/hold`).type('form').send({ _csrf: csrfFrom(html), reason: 'Tvist' }).expect(403);
      await agent.agent.post(`/agent/cases/${ref}/release`).type('form').send({ _csrf: csrfFrom(html), reason: 'Klar' }).expect(403);
      assert.equal((await t.db('cases').where({ reference: ref }).first()).legal_hold, false);
      assert.equal(Number((await t.db('case_events').count<{ n: string }[]>('* as n'))[0]!.n), events);
    });

    it('a manager without a reason gets the form back with the error, and nothing is written', async () => {
      const html = await page(manager);
      const res = await manager.agent.post(`/agent/cases/${ref}/hold`).type('form').send({ _csrf: csrfFrom(html), reason: '   ' }).expect(400);
      assert.match(res.text, /class="error-summary"/);
      assert.match(res.text, /href="#f-hold-reason"/);
      assert.match(res.text, /Skriv ett skäl/);
      assert.equal((await t.db('cases').where({ reference: ref }).first()).legal_hold, false);
      await manager.agent.post(`/agent/cases/${ref}/hold`).type('form').send({ reason: 'Utan CSRF' }).expect(403);
    });

    it('a manager places a hold: the case is held, the timeline and the API say so, the dry run shows it held and the run keeps it', async () => {
      const html = await page(manager);
      const res = await manager.agent.post(`/agent/cases/${ref}/hold`).type('form').send({ _csrf: csrfFrom(html), reason: 'Begäran från JO, dnr 12-2026' }).expect(303);
      assert.match(res.headers.location!, /klart=hold/);
      const row = await t.db('cases').where({ reference: ref }).first();
      assert.deepEqual([row.legal_hold, row.legal_hold_reason], [true, 'Begäran från JO, dnr 12-2026']);
      const ev = await t.db('case_events').where({ case_id: row.id, type: 'case.legal_hold_set' }).first();
      assert.deepEqual([ev.internal, ev.actor_id, ev.payload], [true, manager.user.id, { holdReason: 'Begäran från JO, dnr 12-2026' }]);
      const shown = await page(manager);
      assert.match(shown, /Ärendet har gallringsspärr/);
      assert.match(shown, /Maja Chef satte gallringsspärr/);
      assert.match(shown, /Begäran från JO, dnr 12-2026/);
      const api = await manager.agent.get(`/api/v1/cases/${ref}`).expect(200);
      assert.equal(api.body.legalHold, true);
      const p = await s.retention.plan(new Date());
      assert.ok(p.held.some((c) => c.reference === ref) && !p.going.some((c) => c.reference === ref));
      await s.retention.run({ trigger: 'cli' });
      assert.equal((await t.db('cases').where({ reference: ref }).first()).anonymized_at, null, 'a held case is never removed');
      // Placing it twice is refused with the page, not a crash.
      const again = await manager.agent.post(`/agent/cases/${ref}/hold`).type('form').send({ _csrf: csrfFrom(shown), reason: 'Igen' }).expect(409);
      assert.match(again.text, /Gallringsspärren är redan satt eller hävd/);
    });

    it('an admin lifts it with a reason; the case then goes with the next run', async () => {
      const admin = await t.loginAs('admin', 'Adam Admin');
      const html = await page(admin);
      await admin.agent.post(`/agent/cases/${ref}/release`).type('form').send({ _csrf: csrfFrom(html), reason: 'JO har avslutat ärendet' }).expect(303);
      const row = await t.db('cases').where({ reference: ref }).first();
      assert.deepEqual([row.legal_hold, row.legal_hold_reason], [false, null]);
      const ev = await t.db('case_events').where({ case_id: row.id, type: 'case.legal_hold_lifted' }).first();
      assert.deepEqual([ev.internal, ev.actor_id, ev.payload], [true, admin.user.id, { holdReason: 'JO har avslutat ärendet' }]);
      assert.equal((await admin.agent.get(`/api/v1/cases/${ref}`).expect(200)).body.legalHold, false);
      await s.retention.run({ trigger: 'cli' });
      const gone = await t.db('case_events').where({ case_id: row.id }).orderBy('id');
      assert.ok((await t.db('cases').where({ reference: ref }).first()).anonymized_at);
      assert.ok(!JSON.stringify(gone.map((e: { payload: unknown }) => e.payload)).includes('JO har'), 'the hold reasons went with the rest');
      assert.match(await page(admin), /Ärendet gallrades/);
    });
  });

  describe('/admin/gallring', () => {
    let admin: SignedIn;
    before(async () => {
      admin = await t.loginAs('admin', 'Alva Admin');
    });

    it('is for admins only', async () => {
      const manager = await t.loginAs('manager');
      await manager.agent.get('/admin/gallring').expect(403);
      await t.request().get('/admin/gallring').expect((r) => assert.ok([302, 303, 401].includes(r.status), `anonymous: ${r.status}`));
    });

    it('lists the rules with their topic or department, and the latest runs', async () => {
      const html = (await admin.agent.get('/admin/gallring').expect(200)).text;
      assert.match(html, /Ämne: Bygglov/);
      assert.match(html, /Förvaltning: Tekniska förvaltningen/);
      assert.match(html, /730 dagar/);
      assert.match(html, /Kommandoraden/);
      assert.match(html, /Schemat \(dagligen\)/);
      assert.match(html, /href="\/admin\/gallring" aria-current="page"/, 'in the admin navigation');
    });

    it('refuses a bad rule with the errors and writes nothing', async () => {
      const html = (await admin.agent.get('/admin/gallring').expect(200)).text;
      const before = await allCounts(t.db);
      const bad = await admin.agent.post('/admin/gallring').type('form').send({ _csrf: csrfFrom(html), target: '', days: '0' }).expect(400);
      assert.match(bad.text, /href="#f-target"/);
      assert.match(bad.text, /href="#f-days"/);
      assert.match(bad.text, /Ange ett helt antal dagar, 1 till 36500/);
      const dup = await admin.agent.post('/admin/gallring').type('form').send({ _csrf: csrfFrom(html), target: 'category:bygglov', days: '100' }).expect(400);
      assert.match(dup.text, /redan en aktiv regel/);
      const unknown = await admin.agent.post('/admin/gallring').type('form').send({ _csrf: csrfFrom(html), target: 'category:finns-inte', days: '100' }).expect(400);
      assert.match(unknown.text, /Det finns inget ämne med kortnamnet finns-inte/);
      assert.deepEqual(await allCounts(t.db), before);
    });

    it('adds a rule and deactivates it', async () => {
      const html = (await admin.agent.get('/admin/gallring').expect(200)).text;
      await admin.agent.post('/admin/gallring').type('form').send({ _csrf: csrfFrom(html), target: 'category:gator-och-trafik', days: '365', description: 'Enkla frågor' }).expect(303);
      const rule = await t.db('retention_rules').where({ description: 'Enkla frågor' }).first();
      assert.deepEqual([rule.keep_days, rule.active, rule.created_by], [365, true, admin.user.id]);
      await admin.agent.post(`/admin/gallring/${rule.id}/deactivate`).type('form').send({ _csrf: csrfFrom(html) }).expect(303);
      assert.equal((await t.db('retention_rules').where({ id: rule.id }).first()).active, false);
      await admin.agent.post(`/admin/gallring/${rule.id}/deactivate`).type('form').send({ _csrf: csrfFrom(html) }).expect(409);
      await admin.agent.post('/admin/gallring/999999/deactivate').type('form').send({ _csrf: csrfFrom(html) }).expect(404);
    });
  });
});

/** The store the services were built with is not exposed; a second one on the same database is the same thing. */
const retentionStoreOf = (s: Services) => createRetentionStore(s.db);

describe('retention on the command line (its own process)', function () {
  this.timeout(240_000);
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let pg: TestApp | undefined;
  const now = new Date();

  /** Services on the CLI's database: this file's PostgreSQL database, or the CLI's embedded one (while no CLI runs). */
  async function withServices<T>(fn: (s: Services) => Promise<T>): Promise<T> {
    if (pg) return fn(pg.services);
    return withEmbedded(dataDir, fn);
  }

  const cli = (...args: string[]) => runCli(env, ...args);
  const refs: Record<string, string> = {};

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'sc-retention-cli-'));
    if (databaseKind === 'postgres') {
      pg = await startTestApp({ config: { dataDir, uploads: { dir: path.join(dataDir, 'attachments'), maxBytes: 1_000_000, maxFiles: 5 } } });
      env = cliEnv({ dataDir, databaseUrl: pg.databaseUrl });
    } else {
      env = cliEnv({ dataDir });
      const r = await cli('migrate');
      assert.equal(r.code, 0, show(r));
    }
    await withServices(async (s) => {
      const a = await s.auth.createUser({ email: 'cli-agent@test.example', name: 'Cilla', role: 'agent', password: 'a long test password' });
      refs.going = (await buildCase(s, a, { category: 'bygglov', status: 'closed', finished: 800, now })).reference;
      refs.held = (await buildCase(s, a, { category: 'bygglov', status: 'closed', finished: 900, now })).reference;
      refs.young = (await buildCase(s, a, { category: 'bygglov', status: 'closed', finished: 10, now })).reference;
      refs.other = (await buildCase(s, a, { category: 'forskoleplats', status: 'closed', finished: 900, now })).reference;
      await s.db('cases').where({ reference: refs.held }).update({ legal_hold: true, legal_hold_reason: 'Tvist' });
    });
  });
  after(async () => {
    await pg?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses bad arguments with exit 2 and a clear message, writing nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['retention:rule:add', '--days', '30'], /exactly one of --category SLUG and --department SLUG/],
      [['retention:rule:add', '--category', 'bygglov', '--department', 'teknik', '--days', '30'], /exactly one of --category SLUG and --department SLUG/],
      [['retention:rule:add', '--category', 'bygglov'], /--days is required/],
      [['retention:rule:add', '--category', 'bygglov', '--days', 'två år'], /--days: whole days, 1 to 36500; got "två år"/],
      [['retention:rule:add', '--category', 'bygglov', '--days', '0'], /--days: whole days, 1 to 36500; got "0"/],
      [['retention:rule:add', '--category', 'Bygg Lov', '--days', '30'], /--category: a short name/],
      [['retention:rule:add', '--category', 'finns-inte', '--days', '30'], /No topic named "finns-inte"/],
      [['retention:run', '--force'], /Unknown option '--force'/],
      [['retention:run', '--dry-run', 'extra'], /Unexpected argument|positional/i],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${show(r)}`);
      assert.match(r.stderr, message, `${args.join(' ')}: ${show(r)}`);
    }
    await withServices(async (s) => assert.equal((await s.retention.listRules()).length, 0));
  });

  it('adds and lists rules', async () => {
    const empty = await cli('retention:rules');
    assert.equal(empty.code, 0, show(empty));
    assert.match(empty.stdout, /No retention rules/);
    const added = await cli('retention:rule:add', '--category', 'bygglov', '--days', '730', '--description', 'Enkla frågor');
    assert.equal(added.code, 0, show(added));
    assert.match(added.stdout, /Added retention rule \d+: category bygglov, 730 days/);
    const dup = await cli('retention:rule:add', '--category', 'bygglov', '--days', '100');
    assert.equal(dup.code, 2, show(dup));
    assert.match(dup.stderr, /already has an active rule/);
    const listed = await cli('retention:rules');
    assert.equal(listed.code, 0, show(listed));
    assert.match(listed.stdout, /\tactive\tcategory bygglov\t730 days\tRegel \d+: ärenden i ämnet Bygglov \(bygglov\) gallras 730 dagar efter att de avslutats – Enkla frågor/);
  });

  it('the dry run lists each case that would go (reference, topic, finished date, rule) and the held one, exits 0 and writes nothing', async () => {
    const before = await withServices(async (s) => [await allCounts(s.db), await contents(s.db)] as const);
    const r = await cli('retention:run', '--dry-run');
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Would remove 1 case\(s\):/);
    const going = r.stdout.split('\n').find((l) => l.includes(refs.going!));
    assert.ok(going, show(r));
    assert.match(going, new RegExp(`^  ${refs.going}\\tbygglov\\tfinished ${ago(800, now).toISOString().slice(0, 10)}\\tRegel \\d+: .*730 dagar`));
    assert.match(r.stdout, new RegExp(`Held by a legal hold, kept: 1 case\\(s\\):\\n  ${refs.held}\\tbygglov\\t.*\\tHELD`));
    for (const kept of [refs.young!, refs.other!]) assert.ok(!r.stdout.includes(kept), `${kept} is not listed`);
    const after = await withServices(async (s) => [await allCounts(s.db), await contents(s.db)] as const);
    assert.deepEqual(after, before, 'the dry run wrote nothing, not even a run record');
  });

  it('the run removes the case and records the run', async () => {
    const r = await cli('retention:run');
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /Removed 1 case\(s\); 1 kept by a legal hold\./);
    await withServices(async (s) => {
      const rows = (await s.db('cases').whereIn('reference', Object.values(refs)).select('reference', 'anonymized_at')) as { reference: string; anonymized_at: Date | null }[];
      assert.deepEqual(rows.filter((c) => c.anonymized_at).map((c) => c.reference), [refs.going]);
      const runs = (await s.db('retention_runs').select('trigger', 'case_count')) as { trigger: string; case_count: number }[];
      assert.deepEqual(runs, [{ trigger: 'cli', case_count: 1 }]);
    });
  });
});
