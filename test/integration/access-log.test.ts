import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import { hasKey } from '../../server/platform/i18n.js';
import { ACCESS_ACTIONS } from '../../server/privacy/access-log.js';
import { pdfBytes } from '../fixtures/files.js';
import { postMultipart } from '../fixtures/multipart.js';
import { csrfFrom, startTestApp, type SignedIn, type TestApp } from '../support/harness.js';
import { apiUser, createCase } from './helpers.js';

/**
 * The access log: every view of a case and every export writes exactly one
 * row (who, what) before the answer goes; managers and admins search it
 * (filters, keyset pages, CSV), agents and editors may not; the rows can
 * never be changed or removed.
 */
describe('access log: recording and search', function () {
  this.timeout(60_000);
  let t: TestApp;
  let agent: SignedIn;
  let manager: SignedIn;
  let admin: SignedIn;
  const PAGE = '/agent/atkomstlogg';

  before(async () => {
    t = await startTestApp();
    agent = await t.loginAs('agent', 'Ada Agent');
    manager = await t.loginAs('manager', 'Maja Chef');
    admin = await t.loginAs('admin', 'Adam Admin');
  });
  after(() => t.close());

  const lastId = async () => Number((await t.db('access_log').max('id as id').first())?.id ?? 0);
  const rowsAfter = (id: number) => t.db('access_log').where('id', '>', id).orderBy('id');
  /** Runs `fn` and answers the access-log rows it wrote. */
  async function written(fn: () => Promise<unknown>) {
    const before = await lastId();
    await fn();
    return rowsAfter(before);
  }
  const detailOf = (r: { detail: unknown }) => (typeof r.detail === 'string' ? JSON.parse(r.detail) : r.detail) as Record<string, unknown>;
  const idsOn = (html: string) => [...html.matchAll(/<tr data-id="(\d+)">/g)].map((m) => Number(m[1]));
  const nextLink = (html: string) => /<a href="([^"]+)" rel="next">/.exec(html)?.[1]?.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
  /** A synthetic case reference no real case has, so a search on it sees only the rows a test wrote. */
  let refs = 900000;
  const freshRef = () => `SC-2026-${++refs}`;
  const insertRows = (rows: Record<string, unknown>[]) => t.db('access_log').insert(rows.map((r) => ({ action: 'case.view', detail: '{}', ...r })));

  describe('recording', () => {
    it('a staff case page: one case.view row with the user and the case; the resident reading their own link writes none', async () => {
      const c = await createCase(t);
      const caseRow = await t.db('cases').where({ reference: c.reference }).first();
      const resident = await written(() => t.request().get(`/arende/${c.token}`).expect(200));
      assert.deepEqual(resident, [], 'a resident reading their own case is not staff access');

      const rows = await written(() => agent.agent.get(`/agent/cases/${c.reference}`).expect(200));
      assert.equal(rows.length, 1, JSON.stringify(rows));
      const r = rows[0];
      assert.equal(r.action, 'case.view');
      assert.equal(r.user_id, agent.user.id);
      assert.equal(r.token_id, null);
      assert.equal(Number(r.case_id), Number(caseRow.id));
      assert.equal(r.case_reference, c.reference);
      assert.deepEqual(detailOf(r), {});

      const missing = await written(() => agent.agent.get('/agent/cases/SC-2026-999999').expect(404));
      assert.deepEqual(missing, [], 'a case that does not exist was not viewed');
    });

    it('the API: GET /api/v1/cases/:reference by token names the token; by a session, none', async () => {
      const c = await createCase(t);
      const api = await apiUser(t, 'agent', 'Integration');
      const token = await t.db('api_tokens').where({ user_id: api.user.id }).first();
      const byToken = await written(() => t.request().get(`/api/v1/cases/${c.reference}`).set(api.auth).expect(200));
      assert.equal(byToken.length, 1);
      assert.equal(byToken[0].action, 'case.view');
      assert.equal(byToken[0].user_id, api.user.id);
      assert.equal(byToken[0].token_id, token.id);
      assert.equal(byToken[0].case_reference, c.reference);
      assert.ok(byToken[0].case_id, 'the case id is looked up from the reference');

      const bySession = await written(() => agent.agent.get(`/api/v1/cases/${c.reference}`).expect(200));
      assert.equal(bySession.length, 1);
      assert.equal(bySession[0].user_id, agent.user.id);
      assert.equal(bySession[0].token_id, null);

      assert.deepEqual(await written(() => t.request().get('/api/v1/cases').set(api.auth).expect(200)), [], 'the queue list is not a view of a case');

      // A change answers with the whole case too: that answer is a view, recorded like a read.
      const byNote = await written(() => t.request().post(`/api/v1/cases/${c.reference}/notes`).set(api.auth).send({ body: 'Intern anteckning' }).expect(201));
      assert.deepEqual(
        byNote.map((r) => [r.action, r.user_id, r.token_id, r.case_reference]),
        [['case.view', api.user.id, token.id, c.reference]],
      );
      assert.deepEqual(await written(() => t.request().get('/api/v1/cases/SC-2026-999999').set(api.auth).expect(404)), [], 'a case that does not exist was not viewed');
    });

    it('a protected resident: the view says so in its detail (still one row for an agent without the permission)', async () => {
      const c = await createCase(t);
      const caseRow = await t.db('cases').where({ reference: c.reference }).first();
      await t.db('residents').where({ id: caseRow.resident_id }).update({ protected_identity: true });
      const rows = await written(() => agent.agent.get(`/agent/cases/${c.reference}`).expect(200));
      assert.equal(rows.length, 1);
      assert.equal(rows[0].action, 'case.view');
      assert.deepEqual(detailOf(rows[0]), { protected: true });
    });

    it('an attachment downloaded by staff: one case.attachment row naming the case and the file', async () => {
      const client = t.request();
      const form = await client.get('/kontakt').expect(200);
      await postMultipart(
        client,
        '/kontakt',
        { _csrf: csrfFrom(form.text), category: 'bygglov', name: 'Olle Ås', email: `olle.${randomBytes(3).toString('hex')}@example.com`, phone: '', subject: 'Ritning', message: 'Här är ritningen.' },
        [{ filename: 'ritning.pdf', content: pdfBytes(), contentType: 'application/pdf' }],
      ).expect(303);
      const att = await t.db('attachments').orderBy('id', 'desc').first();
      const caseRow = await t.db('cases').where({ id: att.case_id }).first();
      const rows = await written(() => agent.agent.get(`/agent/attachments/${att.public_id}`).expect(200));
      assert.equal(rows.length, 1);
      assert.equal(rows[0].action, 'case.attachment');
      assert.equal(rows[0].user_id, agent.user.id);
      assert.equal(rows[0].case_reference, caseRow.reference);
      assert.equal(rows[0].target, 'ritning.pdf');
      assert.deepEqual(detailOf(rows[0]), { attachment: att.public_id });
      assert.deepEqual(await written(() => agent.agent.get('/agent/attachments/nope').expect(404)), []);
    });

    it('a statistics CSV: one stats.export row with the table', async () => {
      const rows = await written(() => manager.agent.get('/agent/statistik/export.csv?table=volumes&from=2026-11-01&to=2026-11-07').expect(200));
      assert.equal(rows.length, 1);
      assert.equal(rows[0].action, 'stats.export');
      assert.equal(rows[0].user_id, manager.user.id);
      assert.equal(rows[0].target, 'volumes');
      assert.deepEqual(detailOf(rows[0]), { table: 'volumes', from: '2026-11-01', to: '2026-11-07' });
      assert.deepEqual(await written(() => manager.agent.get('/agent/statistik/export.csv?table=nope').expect(400)), [], 'a refused export wrote nothing');
    });

    it('a quarantined mail downloaded as it arrived: one intake.raw_mail row', async () => {
      const raw = Buffer.from('From: x@example.com\r\nSubject: trasig\r\n\r\nhej\r\n');
      const [m] = await t
        .db('inbound_messages')
        .insert({ source: 'smtp', recipient: 'kontaktcenter@borlange.example', raw, size_bytes: raw.length, sha256: 'x'.repeat(64), status: 'quarantined' })
        .returning('id');
      const id = Number((m as { id: number }).id);
      const rows = await written(() => admin.agent.get(`/admin/mail/${id}/raw`).expect(200));
      assert.equal(rows.length, 1);
      assert.equal(rows[0].action, 'intake.raw_mail');
      assert.equal(rows[0].user_id, admin.user.id);
      assert.equal(rows[0].target, `message-${id}.eml`);
    });

    it('every action has words in Swedish and English', () => {
      for (const a of ACCESS_ACTIONS) for (const lang of ['sv', 'en']) assert.ok(hasKey(lang, `access_log.action.${a}`), `${lang}: access_log.action.${a}`);
    });
  });

  describe('search', () => {
    it('lists rows newest first with who, the action in words, the case linked and the detail; the search itself is recorded once', async () => {
      const ref = freshRef();
      const api = await apiUser(t, 'agent', 'Skriptet');
      const token = await t.db('api_tokens').where({ user_id: api.user.id }).first();
      const now = Date.now();
      await insertRows([
        { user_id: agent.user.id, case_reference: ref, created_at: new Date(now - 3000), detail: JSON.stringify({ protected: true }) },
        { user_id: api.user.id, token_id: token.id, case_reference: ref, created_at: new Date(now - 2000) },
        { user_id: null, action: 'subject.export', case_reference: ref, target: 'x@example.com', created_at: new Date(now - 1000), detail: JSON.stringify({ via: 'cli' }) },
      ]);
      let html = '';
      const rows = await written(async () => (html = (await manager.agent.get(`${PAGE}?case=${ref.toLowerCase()}`).expect(200)).text));
      assert.equal(rows.length, 1);
      assert.equal(rows[0].action, 'access_log.search');
      assert.equal(rows[0].user_id, manager.user.id);
      assert.equal(detailOf(rows[0]).case, ref, 'the search is recorded with its filters');
      const ids = idsOn(html);
      assert.equal(ids.length, 3);
      assert.ok(ids[0]! > ids[1]! && ids[1]! > ids[2]!, 'newest first');
      const body = html.slice(html.indexOf('<tbody>'), html.indexOf('</tbody>'));
      assert.match(body, /Tog ut registerutdrag/);
      assert.match(body, /Kommandoraden/);
      assert.match(body, new RegExp(`API-nyckel #${token.id}`));
      assert.match(body, /Läste ärendet/);
      assert.match(body, /Ada Agent/);
      assert.match(body, new RegExp(agent.user.email.replace(/\./g, '\\.')));
      assert.match(body, /Skyddad identitet/);
      assert.ok(body.includes(`<a href="/agent/cases/${ref}">${ref}</a>`), 'the case is linked');

      const en = (await manager.agent.get(`${PAGE}?case=${ref}&lang=en`).expect(200)).text;
      assert.match(en, /Took out a subject access export/);
      assert.match(en, new RegExp(`API key #${token.id}`));
      await manager.agent.get(`${PAGE}?lang=sv`).expect(200);
    });

    it('filters by user, action and case, and by a period of local days (both included)', async () => {
      const ref = freshRef();
      const other = freshRef();
      // 2026-03-10 to 2026-03-12 in Stockholm (CET) is [2026-03-09T23:00Z, 2026-03-12T23:00Z).
      const at = (iso: string) => new Date(iso);
      await insertRows([
        { user_id: agent.user.id, case_reference: ref, created_at: at('2026-03-09T22:59:59.999Z'), target: 'before' },
        { user_id: agent.user.id, case_reference: ref, created_at: at('2026-03-09T23:00:00.000Z'), target: 'first' },
        { user_id: manager.user.id, case_reference: ref, action: 'case.attachment', created_at: at('2026-03-11T12:00:00Z'), target: 'middle' },
        { user_id: agent.user.id, case_reference: ref, created_at: at('2026-03-12T22:59:59.999Z'), target: 'last' },
        { user_id: agent.user.id, case_reference: ref, created_at: at('2026-03-12T23:00:00.000Z'), target: 'after' },
        { user_id: agent.user.id, case_reference: other, created_at: at('2026-03-11T12:00:00Z'), target: 'other case' },
      ]);
      const targets = async (q: string) => {
        const html = (await manager.agent.get(`${PAGE}?${q}`).expect(200)).text;
        return [...html.matchAll(/<td>([a-z ]+)(?:<br>|<\/td>)/g)].map((m) => m[1]);
      };
      assert.deepEqual(await targets(`from=2026-03-10&to=2026-03-12&case=${ref}`), ['last', 'middle', 'first']);
      assert.deepEqual(await targets(`from=2026-03-10&to=2026-03-12&case=${ref}&user=${manager.user.id}`), ['middle']);
      assert.deepEqual(await targets(`from=2026-03-10&to=2026-03-12&case=${ref}&action=case.view`), ['last', 'first']);
      assert.deepEqual(await targets(`from=2026-03-01&to=2026-03-31&user=${agent.user.id}&action=case.view&case=${other}`), ['other case']);
      assert.deepEqual(await targets(`from=2026-03-13&to=2026-03-13&case=${ref}`), ['after']);
    });

    it('opens on the last seven days, today included', async () => {
      const ref = freshRef();
      const days = (n: number) => DateTime.now().setZone('Europe/Stockholm').startOf('day').minus({ days: n }).plus({ hours: 12 }).toJSDate();
      await insertRows([
        { user_id: agent.user.id, case_reference: ref, created_at: days(7), target: 'eight days' },
        { user_id: agent.user.id, case_reference: ref, created_at: days(6), target: 'seven days' },
      ]);
      const html = (await manager.agent.get(`${PAGE}?case=${ref}`).expect(200)).text;
      assert.match(html, /seven days/);
      assert.doesNotMatch(html, /eight days/);
      const today = DateTime.now().setZone('Europe/Stockholm');
      assert.match(html, new RegExp(`value="${today.minus({ days: 6 }).toISODate()}"`), 'the form shows the period it used');
      assert.match(html, new RegExp(`value="${today.toISODate()}"`));
    });

    it('pages of 100 by keyset, newest first, with nothing lost or repeated when many rows share a time', async () => {
      const ref = freshRef();
      const same = new Date(Date.now() - 60_000);
      await insertRows(Array.from({ length: 150 }, () => ({ user_id: agent.user.id, case_reference: ref, created_at: same })));
      await insertRows(Array.from({ length: 55 }, (_, i) => ({ user_id: agent.user.id, case_reference: ref, created_at: new Date(same.getTime() + 1000 + i) })));
      const all = (await t.db('access_log').where({ case_reference: ref }).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).select('id')).map((r: { id: number }) => Number(r.id));
      assert.equal(all.length, 205);

      const seen: number[] = [];
      let url: string | undefined = `${PAGE}?case=${ref}`;
      const sizes: number[] = [];
      while (url) {
        const html = (await manager.agent.get(url).expect(200)).text;
        const ids = idsOn(html);
        sizes.push(ids.length);
        seen.push(...ids);
        url = nextLink(html);
        if (sizes.length > 1) assert.match(html, /Till de nyaste/, 'a later page links back to the newest');
      }
      assert.deepEqual(sizes, [100, 100, 5]);
      assert.deepEqual(seen, all);
    });

    it('the CSV: the whole filtered result, formula-safe, recorded as access_log.export and not listing itself', async () => {
      const ref = freshRef();
      await insertRows([
        { user_id: agent.user.id, case_reference: ref, created_at: new Date('2026-05-05T08:00:00Z'), target: '=HYPERLINK("http://evil.example","klicka")' },
        { user_id: agent.user.id, case_reference: ref, created_at: new Date('2026-05-05T09:00:00Z'), target: 'plain' },
      ]);
      let res: { text: string; headers: Record<string, string> } | undefined;
      const rows = await written(async () => (res = await manager.agent.get(`${PAGE}/export.csv?from=2026-05-01&to=2026-05-31&case=${ref}`).buffer(true).expect(200)));
      assert.equal(rows.length, 1);
      assert.equal(rows[0].action, 'access_log.export');
      assert.equal(rows[0].user_id, manager.user.id);
      assert.deepEqual(detailOf(rows[0]), { from: '2026-05-01', to: '2026-05-31', case: ref });
      assert.match(res!.headers['content-type']!, /^text\/csv/);
      assert.match(res!.headers['content-disposition']!, /attachment; filename="atkomstlogg-2026-05-01-2026-05-31\.csv"/);
      const lines = res!.text.replace(/^\uFEFF/, '').trim().split('\r\n');
      assert.equal(lines.length, 3, res!.text);
      assert.equal(lines[0], 'Tid (Europe/Stockholm);Användare;E-post;Via;Åtgärd;Åtgärdskod;Ärende;Vad;Detaljer');
      assert.ok(lines[1]!.startsWith('2026-05-05 11:00:00;Ada Agent;'), lines[1]);
      assert.ok(lines[2]!.includes(`;${ref};"'=HYPERLINK(""http://evil.example"",""klicka"")";`), `the formula is neutralised: ${lines[2]}`);

      // A larger result than one read: every row, once.
      const many = freshRef();
      await insertRows(Array.from({ length: 1234 }, (_, i) => ({ user_id: agent.user.id, case_reference: many, created_at: new Date(Date.UTC(2026, 4, 6, 8, 0, 0, i)) })));
      const big = await manager.agent.get(`${PAGE}/export.csv?from=2026-05-01&to=2026-05-31&case=${many}`).buffer(true).expect(200);
      assert.equal(big.text.trim().split('\r\n').length, 1235);
    });

    it('bad filters: 400 with each field named on the page, and nothing recorded', async () => {
      const cases: [string, string, RegExp][] = [
        ['from=2026-02-30', 'f-from', /Skriv datumet som ÅÅÅÅ-MM-DD/],
        ['from=2026-03-10&to=2026-03-01', 'f-to', /Slutdatumet kan inte vara före startdatumet/],
        ['action=case.delete', 'f-action', /Välj ett av alternativen/],
        ['case=ABC-1', 'f-case', /Skriv ärendenumret som SC-ÅÅÅÅ-NNNNNN/],
        ['user=nobody', 'f-user', /Välj ett av alternativen/],
      ];
      for (const [q, field, text] of cases) {
        const rows = await written(async () => {
          const res = await manager.agent.get(`${PAGE}?${q}`).expect(400);
          assert.match(res.text, /class="error-summary"/, q);
          assert.ok(res.text.includes(`href="#${field}"`), `${q}: the summary links to ${field}`);
          assert.match(res.text, new RegExp(`id="${field}"[^>]*aria-invalid="true"`), `${q}: ${field} is marked`);
          assert.match(res.text, text, q);
          assert.doesNotMatch(res.text, /id="access-log-table"/, 'no result with an error');
        });
        assert.deepEqual(rows, [], `${q}: nothing recorded`);
      }
      assert.deepEqual(await written(() => manager.agent.get(`${PAGE}/export.csv?from=nope`).expect(400)), []);
    });

    it('agents and editors get 403 on the page and the CSV; admins may search (roles nest); the navigation links it for managers only', async () => {
      const editor = await t.loginAs('editor');
      for (const who of [agent, editor]) {
        const rows = await written(async () => {
          await who.agent.get(PAGE).expect(403);
          await who.agent.get(`${PAGE}/export.csv`).expect(403);
        });
        assert.deepEqual(rows, []);
        assert.doesNotMatch((await who.agent.get('/agent/statistik').expect(200)).text, /href="\/agent\/atkomstlogg"/);
      }
      await t.request().get(PAGE).expect((r) => assert.ok([302, 303, 401].includes(r.status), `anonymous: ${r.status}`));
      await admin.agent.get(PAGE).expect(200);
      assert.match((await manager.agent.get('/agent/statistik').expect(200)).text, /href="\/agent\/atkomstlogg"/);
    });
  });

  describe('kept as written', () => {
    it('an UPDATE, a DELETE or a TRUNCATE of the log raises, on the database itself', async () => {
      const id = await lastId();
      assert.ok(id > 0);
      await assert.rejects(t.db('access_log').where({ id }).update({ action: 'case.view', target: 'changed' }), /kept as written/);
      await assert.rejects(t.db('access_log').where({ id }).del(), /kept as written/);
      await assert.rejects(t.db.raw('TRUNCATE access_log'), /kept as written/);
      assert.ok(await t.db('access_log').where({ id }).first(), 'the row is still there');
    });
  });
});
