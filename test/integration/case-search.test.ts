import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import type { Knex } from 'knex';
import supertest from 'supertest';
import { createApp } from '../../server/app.js';
import { createLogger } from '../../server/platform/logger.js';
import { personnummerPattern, planFor, snippetOf } from '../../server/cases/search.js';
import { searchQuery } from '../../server/cases/search-store.js';
import { buildOpenApi } from '../../server/platform/openapi.js';
import { databaseKind } from '../support/database.js';
import { startTestApp, type SignedIn, type TestApp } from '../support/harness.js';
import { apiUser, createCase } from './helpers.js';

/**
 * Case search for staff (/agent/sok and GET /api/v1/cases/search) on a real
 * database: each kind of match, masking of subjects and snippets, protected
 * identity, bad input, access and keyset paging, and the plan of a word
 * search on a few thousand messages.
 */

interface Item {
  reference: string;
  status: string;
  category: string;
  subject: string;
  snippet: string;
  createdAt: string;
  matched: string[];
}

const API = '/api/v1/cases/search';

// Valid numbers (date and check digit), each written differently in the cases below.
const PNR_COLUMN = '198501011236'; // only in cases.personnummer
const PNR_TEXT = '199002022342'; // only written in a message, as 900202-2342
const PNR_SUBJECT = '194703155673'; // written in a subject as 19470315-5673

describe('case search (/agent/sok, GET /api/v1/cases/search)', function () {
  this.timeout(120_000);
  let t: TestApp;
  let agent: SignedIn;
  let seer: SignedIn;
  let token: { Authorization: string };
  const refs: Record<string, string> = {};
  const protectedEmail = 'petra.skyddad@example.com';
  const protectedPhone = '070-555 12 34';

  const search = async (q: string, as: SignedIn = agent, cursor?: string): Promise<{ items: Item[]; next: string | null }> => {
    const res = await as.agent
      .get(API)
      .query({ q, ...(cursor ? { cursor } : {}) })
      .expect(200);
    assert.ok(Array.isArray(res.body.items), 'items is a list');
    return res.body as { items: Item[]; next: string | null };
  };
  const refsOf = (items: Item[]) => items.map((i) => i.reference);

  before(async () => {
    t = await startTestApp();
    agent = await t.loginAs('agent', 'Vanlig Handläggare');
    seer = await t.loginAs('agent', 'Behörig Handläggare');
    await t.db('users').where({ id: seer.user.id }).update({ sees_protected: true });
    token = (await apiUser(t, 'agent')).auth;

    refs.carport = (
      await createCase(t, {
        name: 'Greta Lindholm',
        email: 'Greta.Lindholm@example.com',
        subject: 'Bygglov för carport',
        message: 'Hej! Jag undrar om det krävs bygglov för en carport på tomten. Den blir ungefär 30 kvadratmeter och står nära tomtgränsen.',
      })
    ).reference;
    refs.phone = (await createCase(t, { name: 'Olle Telefon', email: undefined, phone: '070-123 45 67', subject: 'Ring mig', message: 'Ring mig om sophämtningen.' })).reference;
    refs.column = (await createCase(t, { subject: 'Fråga om försörjningsstöd', message: 'Jag vill veta hur jag ansöker.' })).reference;
    await t.db('cases').where({ reference: refs.column }).update({ personnummer: PNR_COLUMN });
    const filler = 'Jag har tidigare skrivit till er om detta flera gånger, utan att få något svar, och nu hoppas jag att någon kan hjälpa mig. ';
    refs.text = (
      await createCase(t, {
        subject: 'Ekonomiskt bistånd',
        message: `${filler}${filler}Mitt personnummer är 900202-2342 och jag bor på Storgatan 1. ${filler}${filler}`,
      })
    ).reference;
    refs.subject = (await createCase(t, { subject: 'Angående 19470315-5673 och hemtjänst', message: 'Se rubriken.' })).reference;
    refs.protected = (
      await createCase(t, {
        name: 'Petra Skyddad',
        email: protectedEmail,
        phone: protectedPhone,
        subject: 'Fråga om vattenmätare',
        message: `Min vattenmätare läcker. Svara till ${protectedEmail} eller ring ${protectedPhone}. Mvh Petra Skyddad`,
      })
    ).reference;
    await t.db('residents').where({ email: protectedEmail }).update({ protected_identity: true });
  });
  after(() => t?.close());

  describe('each kind of match', () => {
    it('a reference, exactly and in any case', async () => {
      const { items } = await search(refs.carport!.toLowerCase());
      assert.deepEqual(refsOf(items), [refs.carport]);
      assert.deepEqual(items[0]!.matched, ['reference']);
      assert.equal(items[0]!.subject, 'Bygglov för carport');
      assert.match(items[0]!.snippet, /^Hej! Jag undrar/, 'the snippet is the start of the first message');
      assert.equal(items[0]!.category, 'bygglov');
      const { items: none } = await search(refs.carport!.slice(0, -1));
      assert.ok(!refsOf(none).includes(refs.carport!), 'a reference cut short is not that case');
    });

    it("the resident's e-mail, in any case", async () => {
      const { items } = await search('GRETA.LINDHOLM@EXAMPLE.COM');
      assert.ok(refsOf(items).includes(refs.carport!), refsOf(items).join());
      assert.ok(items.find((i) => i.reference === refs.carport)!.matched.includes('email'));
    });

    it("the resident's phone number, written another way (compared by sc_phone_key)", async () => {
      const { items } = await search('+46 70 123 45 67');
      assert.deepEqual(refsOf(items), [refs.phone]);
      assert.ok(items[0]!.matched.includes('phone'));
    });

    it("the resident's name, by part of it and in any case", async () => {
      const { items } = await search('lindhol');
      assert.deepEqual(refsOf(items), [refs.carport]);
      assert.deepEqual(items[0]!.matched, ['name']);
    });

    it('words in the subject', async () => {
      const { items } = await search('carport bygglov');
      assert.deepEqual(refsOf(items), [refs.carport]);
      assert.ok(items[0]!.matched.includes('subject'), items[0]!.matched.join());
    });

    it('words in a message, with a snippet around the match', async () => {
      const { items } = await search('tomtgränsen');
      assert.deepEqual(refsOf(items), [refs.carport]);
      assert.deepEqual(items[0]!.matched, ['message']);
      assert.match(items[0]!.snippet, /tomtgränsen/);
      const { items: both } = await search('kvadratmeter Storgatan');
      assert.deepEqual(both, [], 'every word must be in the same text');
      const { items: wild } = await search('tomt_r%nsen');
      assert.deepEqual(wild, [], '_ and % are plain characters, not wildcards');
    });

    it('a personnummer kept on the case, typed in 10 digits with a dash', async () => {
      const { items } = await search('850101-1236');
      assert.deepEqual(refsOf(items), [refs.column]);
      assert.deepEqual(items[0]!.matched, ['personnummer']);
    });

    it('a personnummer written in a message, typed in 12 digits (any form finds any form)', async () => {
      for (const q of [PNR_TEXT, '19900202-2342', '9002022342', '900202-2342']) {
        const { items } = await search(q);
        assert.deepEqual(refsOf(items), [refs.text], `searching ${q}`);
        assert.deepEqual(items[0]!.matched, ['personnummer']);
      }
    });

    it('a personnummer written in a subject', async () => {
      const { items } = await search(`${PNR_SUBJECT.slice(2, 8)}-${PNR_SUBJECT.slice(8)}`);
      assert.deepEqual(refsOf(items), [refs.subject]);
    });

    it('newest first, each row with reference, status, topic and date', async () => {
      // newCase() names every resident Sara Öberg unless told otherwise; Swedish letters match in any case too.
      const { items } = await search('ÖBERG');
      assert.ok(items.length >= 3, `${items.length} cases of Sara`);
      const dates = items.map((i) => Date.parse(i.createdAt));
      assert.deepEqual(dates, [...dates].sort((a, b) => b - a));
      for (const i of items) {
        assert.equal(i.status, 'new');
        assert.equal(typeof i.category, 'string');
      }
    });
  });

  describe('masking', () => {
    it('the snippet masks the personnummer it was found by, and is about 160 characters around it', async () => {
      const { items } = await search('19900202-2342');
      const { snippet } = items[0]!;
      assert.ok(!/\d{4}/.test(snippet), `no digits of the number: ${snippet}`);
      assert.match(snippet, /Mitt personnummer är ••••••-•••• och jag bor/);
      assert.ok(snippet.startsWith('…') && snippet.endsWith('…'), 'cut from the middle of a longer message');
      assert.ok(snippet.length <= 165 && snippet.length >= 120, `length ${snippet.length}`);
      const full = await agent.agent.get(`/api/v1/cases/${refs.text}`).expect(200);
      assert.match(JSON.stringify(full.body.messages), /900202-2342/, 'the case itself has the full text');
    });

    it('the subject is masked in results, also on the page', async () => {
      const { items } = await search('hemtjänst');
      assert.deepEqual(refsOf(items), [refs.subject]);
      assert.equal(items[0]!.subject, 'Angående ••••••••-•••• och hemtjänst');
      const page = await agent.agent.get('/agent/sok').query({ q: '19470315-5673' }).expect(200);
      assert.ok(page.text.includes(refs.subject!), 'found on the page');
      const results = page.text.slice(page.text.indexOf('id="results-title"'));
      assert.ok(!results.includes('470315'), 'the number is nowhere in the results (the search field keeps what was typed)');
      assert.ok(results.includes('Angående ••••••••-•••• och hemtjänst'));
    });
  });

  describe('protected identity', () => {
    const byContact = ['petra.skyddad@example.com', '0705551234', 'Petra Skyddad', 'skyddad'];

    it("an ordinary agent does not find the resident's case by e-mail, phone or name (nor those words in its text)", async () => {
      for (const q of byContact) {
        const { items } = await search(q);
        assert.ok(!refsOf(items).includes(refs.protected!), `not found by ${q}`);
      }
      const api = await t.request().get(API).query({ q: protectedEmail }).set(token).expect(200);
      assert.deepEqual(api.body.items, [], 'nor with an API token');
    });

    it('an agent allowed to see protected residents finds it by each', async () => {
      for (const q of byContact) {
        const { items } = await search(q, seer);
        assert.ok(refsOf(items).includes(refs.protected!), `found by ${q}`);
      }
    });

    it('found by other words, the results show none of their contact details', async () => {
      const { items } = await search('vattenmätare läcker');
      assert.deepEqual(refsOf(items), [refs.protected]);
      const shown = JSON.stringify(items);
      for (const detail of [protectedEmail, protectedPhone, 'Petra', 'Skyddad']) assert.ok(!shown.includes(detail), `${detail} is not in ${shown}`);
      const page = await agent.agent.get('/agent/sok').query({ q: 'vattenmätare läcker' }).expect(200);
      assert.ok(page.text.includes(refs.protected!));
      for (const detail of [protectedEmail, '555 12 34', 'Petra Skyddad']) assert.ok(!page.text.includes(detail), `${detail} is not on the page`);
      const { items: seen } = await search('vattenmätare läcker', seer);
      assert.ok(seen[0]!.snippet.includes(protectedEmail), 'one who may see them reads the snippet as written');
    });
  });

  describe('bad input and access', () => {
    it('an empty query shows the form without results', async () => {
      const page = await agent.agent.get('/agent/sok').expect(200);
      assert.match(page.text, /<input id="f-q" name="q" type="search" value=""/);
      assert.ok(!page.text.includes('id="results-title"'), 'no results section');
      const blank = await agent.agent.get('/agent/sok').query({ q: '   ' }).expect(200);
      assert.ok(!blank.text.includes('id="results-title"'));
      const api = await search('');
      assert.deepEqual(api, { items: [], next: null });
    });

    it('a query over 200 characters: 400 with a field error, on the page and in the API', async () => {
      const long = 'a'.repeat(201);
      const res = await agent.agent.get(API).query({ q: long }).expect(400);
      assert.equal(res.body.error, 'validation_failed');
      assert.deepEqual(Object.keys(res.body.fields), ['q']);
      assert.equal(res.body.errors[0].code, 'errors.too_long');
      const page = await agent.agent.get('/agent/sok').query({ q: long }).expect(400);
      assert.match(page.text, /class="error-summary"/);
      assert.match(page.text, /<a href="#f-q">Texten är för lång \(högst 200 tecken\)\.<\/a>/);
      assert.match(page.text, /id="f-q-error"/);
      assert.match(page.text, /aria-invalid="true"/);
      await agent.agent.get(API).query({ q: 'a'.repeat(200) }).expect(200);
    });

    it('a cursor it did not give out, or q given twice: 400 naming the field', async () => {
      const res = await agent.agent.get(API).query({ q: 'bygglov', cursor: 'nonsense' }).expect(400);
      assert.deepEqual(Object.keys(res.body.fields), ['cursor']);
      const twice = await agent.agent.get(`${API}?q=a&q=b`).expect(400);
      assert.deepEqual(Object.keys(twice.body.fields), ['q']);
    });

    it('anonymous: the page sends to the sign-in, the API answers 401', async () => {
      const page = await t.request().get('/agent/sok').query({ q: 'bygglov' }).expect(303);
      assert.match(page.headers.location ?? '', /^\/login/);
      await t.request().get(API).query({ q: 'bygglov' }).expect(401);
    });

    it('the page is in the agent navigation, and the API in the OpenAPI document', async () => {
      const queue = await agent.agent.get('/agent').expect(200);
      assert.match(queue.text, /<a href="\/agent\/sok">Sök ärenden<\/a>/);
      const page = await agent.agent.get('/agent/sok').expect(200);
      assert.match(page.text, /<a href="\/agent\/sok" aria-current="page">Sök ärenden<\/a>/);
      const doc = buildOpenApi('http://localhost');
      const op = (doc.paths as Record<string, { get?: { parameters?: { name: string }[] } }>)[API]?.get;
      assert.ok(op, 'GET /api/v1/cases/search is described');
      assert.deepEqual(op.parameters?.map((p) => p.name), ['q', 'cursor']);
      assert.ok('CaseSearchResult' in doc.components.schemas);
    });
  });

  describe('the query is written nowhere', () => {
    it('the request log (at debug level, which logs every request) has the path but not the query', async () => {
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString('utf8'));
          done();
        },
      });
      const app = createApp({ ...t.services, logger: createLogger({ logLevel: 'debug' }, sink) });
      const secret = ['Hemligsson', '9002022342', 'petra.skyddad@example.com'];
      for (const q of secret) {
        await supertest(app).get(API).query({ q }).set(token).expect(200);
        await supertest(app).get('/agent/sok').query({ q, cursor: 'x' }).set(token);
      }
      await supertest(app).get(API).query({ q: 'x'.repeat(201) }).set(token).expect(400);
      const log = lines.join('');
      assert.match(log, /"url":"\/api\/v1\/cases\/search\?\[redacted\]"/, `the request is logged: ${log.slice(0, 300)}`);
      assert.match(log, /"url":"\/agent\/sok\?\[redacted\]"/);
      for (const q of [...secret, '900202', 'xxxxxxxxxx']) assert.ok(!log.includes(q), `${q} is not in the log`);
    });
  });

  describe('the search index', () => {
    it('intake writes nothing for search; the next search indexes what was committed first, and a reply is found too', async () => {
      const word = `kvastfening${Date.now()}`;
      const before = await t.db('search_texts').count<{ n: string }[]>({ n: '*' });
      const { reference } = await createCase(t, { subject: 'Trädgårdsavfall', message: `Var lämnar jag ${word}?` });
      assert.deepEqual(await t.db('search_texts').count<{ n: string }[]>({ n: '*' }), before, 'the intake transaction wrote no search text');
      assert.deepEqual(refsOf((await search(word)).items), [reference], 'found by the search that indexed it');
      assert.equal(Number((await t.db('search_texts').whereRaw('body LIKE ?', [`%${word}%`]).count<{ n: string }[]>({ n: '*' }))[0]!.n), 1);

      const reply = `svarsord${Date.now()}`;
      await agent.agent.post(`/api/v1/cases/${reference}/replies`).set('X-CSRF-Token', agent.csrf).send({ body: `Hej! ${reply} finns på återvinningscentralen.` }).expect(201);
      // The index loop (started by main.ts) brings it in after commit; so does the next search.
      assert.ok((await t.services.caseSearch.catchUp()) > 0, 'the loop has the reply to index');
      assert.equal(await t.services.caseSearch.catchUp(), 0, 'and then nothing more');
      const { items } = await search(reply);
      assert.deepEqual(refsOf(items), [reference]);
      assert.deepEqual(items[0]!.matched, ['message']);
    });
  });

  describe('paging and plan, on a few thousand cases', () => {
    before(async function () {
      this.timeout(300_000);
      await bulkCases(t.db, 3000);
      // Indexed after commit, as the index loop would (a search does it too; the EXPLAIN below reads the index directly).
      assert.equal(await t.services.caseSearch.catchUp(), 3000, 'one event per case, each read once');
    });

    it('at most 50 per page, newest first, "more" leads to the older ones without repeats', async () => {
      const first = await search('snöröjning');
      assert.equal(first.items.length, 50);
      assert.ok(first.next, 'there is a next page');
      const second = await search('snöröjning', agent, first.next!);
      const all = [...first.items, ...second.items];
      const expected = await t.db('messages').where('body', 'like', '%snöröjning%').countDistinct<{ n: string }[]>({ n: 'case_id' });
      assert.equal(new Set(refsOf(all)).size, all.length, 'no case twice');
      const dates = all.map((i) => Date.parse(i.createdAt));
      assert.deepEqual(dates, [...dates].sort((a, b) => b - a), 'newest first across pages');
      let n = all.length;
      let next = second.next;
      while (next) {
        const more = await search('snöröjning', agent, next);
        n += more.items.length;
        next = more.next;
      }
      assert.equal(n, Number(expected[0]!.n), 'every matching case, once');

      const page = await agent.agent.get('/agent/sok').query({ q: 'snöröjning' }).expect(200);
      assert.equal((page.text.match(/<li class="search-result">/g) ?? []).length, 50);
      const html = (text: string) => text.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
      const more = /<a href="(\/agent\/sok\?q=[^"]+&cursor=[^"]+)" rel="next">/.exec(html(page.text));
      assert.ok(more, 'a link to older results');
      const older = await agent.agent.get(more[1]!).expect(200);
      assert.ok(older.text.includes(second.items[0]!.reference), 'the link shows the next page');
      assert.match(html(older.text), /<a href="\/agent\/sok\?q=sn%C3%B6r%C3%B6jning">/, 'and a way back to the first');
    });

    it(`a word search reads the search index through its trigram index, not a sequential scan (EXPLAIN, ${databaseKind})`, async () => {
      await t.db.raw('ANALYZE search_texts');
      await t.db.raw('ANALYZE messages');
      await t.db.raw('ANALYZE cases');
      await t.db.raw('ANALYZE residents');
      for (const q of ['gatubelysning', 'trasig gatubelysning', '19900202-2342']) {
        const { sql, bindings } = searchQuery(planFor(q), agent.user.id, { limit: 51 });
        const { rows } = await t.db.raw<{ rows: Record<string, unknown>[] }>(`EXPLAIN (FORMAT JSON) ${sql}`, bindings);
        const nodes = flatten((rows[0]!['QUERY PLAN'] as Record<string, unknown>[])[0]!.Plan as Record<string, unknown>);
        const reads = (table: string) => nodes.filter((n) => n['Relation Name'] === table).map((n) => `${n['Node Type']}${n['Index Name'] ? ` ${n['Index Name']}` : ''}`);
        const onIndex = reads('search_texts');
        assert.ok(onIndex.length > 0, `the plan reads search_texts (${q})`);
        for (const table of ['search_texts', 'messages', 'cases']) {
          assert.ok(!reads(table).some((n) => n.startsWith('Seq Scan')), `no sequential scan on ${table} for "${q}" (${databaseKind}): ${reads(table).join('; ')}`);
        }
        const indexes = nodes.map((n) => n['Index Name']).filter(Boolean);
        assert.ok(indexes.includes('search_texts_trgm_idx'), `the trigram index is used for "${q}": ${indexes.join(', ')}`);
      }
      const { items } = await search('trasig gatubelysning');
      assert.equal(items.length, 6, 'every 500th of 3000');
      assert.ok(items.every((i) => i.snippet.includes('trasig')), 'with the match in the snippet');
    });
  });

  describe('the parts on their own', () => {
    it('a personnummer pattern takes the separator that gives the same person', () => {
      assert.equal(personnummerPattern('199002022342'), '(^|[^0-9])(19900202-?2342|900202-?2342)([^0-9]|$)');
      // Born 1912: written with ten digits only with "+" (100 years or older).
      assert.equal(personnummerPattern('191212121212'), '(^|[^0-9])(19121212-?1212|121212\\+1212)([^0-9]|$)');
    });

    it('the query decides what is looked for', () => {
      assert.deepEqual(planFor('sc-2026-000123'), { words: [], phoneKeys: [], reference: 'SC-2026-000123' });
      const pnr = planFor('900202-2342');
      assert.equal(pnr.personnummer?.normalized, '199002022342');
      assert.deepEqual(pnr.words, [], 'a personnummer is not also searched as a word');
      assert.equal(planFor('070-123 45 67').phone, '070-123 45 67');
      assert.equal(planFor('a@b.se').email, 'a@b.se');
      assert.deepEqual(planFor('Om (bygglov), ja!').words, ['bygglov'], 'short words and punctuation are left out');
      assert.deepEqual(planFor('50%_rabatt').words, ['50%_rabatt'], 'LIKE wildcards are kept as text (escaped by the store)');
      assert.deepEqual(planFor('070-123 45 67').words, ['070-123 45 67'], 'a phone number is looked for in text as typed, not by its digit groups');
    });

    it('a snippet is cut at spaces around the match', () => {
      const text = `${'ord '.repeat(100)}MATCH${' ord'.repeat(100)}`;
      const at = text.indexOf('MATCH');
      const s = snippetOf(text, { start: at, end: at + 5 });
      assert.match(s, /^…ord .* MATCH ord .*ord…$/);
      assert.ok(s.length <= 162, `length ${s.length}`);
      assert.equal(snippetOf('kort text'), 'kort text');
    });
  });
});

function flatten(plan: Record<string, unknown>): Record<string, unknown>[] {
  const children = (plan.Plans as Record<string, unknown>[] | undefined) ?? [];
  return [plan, ...children.flatMap(flatten)];
}

/**
 * A few thousand cases with a message each, written straight to the tables
 * (the API would take minutes): some mention "snöröjning", a few
 * "gatubelysning", spread over the last days. Each message is about 700
 * characters, an ordinary length: with very short rows the whole table is a
 * few dozen pages and reading it all is rightly cheaper than two index scans.
 */
async function bulkCases(db: Knex, n: number): Promise<void> {
  await db.raw(
    `WITH r AS (
       INSERT INTO residents (name, email)
       SELECT 'Massa Person ' || g, 'massa' || g || '@bulk.example' FROM generate_series(1, ?) g
       RETURNING id
     ),
     c AS (
       INSERT INTO cases (reference, channel, category_id, resident_id, subject, resident_token, created_at, queue_at)
       SELECT 'SC-2025-' || lpad((900000 + r.id)::text, 6, '0'), 'web', (SELECT id FROM categories WHERE slug = 'bygglov'), r.id,
              'Ärende ' || r.id, md5('token' || r.id), date_trunc('milliseconds', now() - interval '1 day' - r.id * interval '37 seconds'),
              now() - interval '1 day' - r.id * interval '37 seconds'
         FROM r
       RETURNING id
     ),
     -- Every case begins with its event, as the service writes it: the search index reads the event log.
     e AS (INSERT INTO case_events (case_id, type, actor_type) SELECT id, 'case.created', 'resident' FROM c)
     INSERT INTO messages (case_id, kind, channel, body)
     SELECT c.id, 'resident', 'web',
            'Hej, jag skriver om ' || (ARRAY['parkering', 'sophämtning', 'bygglov', 'förskola', 'vatten', 'skolskjuts', 'bibliotek'])[1 + c.id % 7]
            || CASE WHEN c.id % 40 = 0 THEN ' och snöröjning' ELSE '' END
            || CASE WHEN c.id % 500 = 0 THEN '. Gatubelysningen är trasig, ingen gatubelysning alls' ELSE '' END
            || '. ' || (SELECT string_agg(md5(c.id::text || k), ' ') FROM generate_series(1, 18) k) || ' Vänliga hälsningar'
       FROM c`,
    [n],
  );
}
