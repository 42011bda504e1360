import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { unzipSync, strFromU8 } from 'fflate';
import type supertest from 'supertest';
import { seedReferenceData } from '../../server/demo/seed.js';
import { migrateLatest } from '../../server/platform/migrate.js';
import { type Services } from '../../server/services.js';
import { pdfBytes, pngBytes } from '../fixtures/files.js';
import { postMultipart } from '../fixtures/multipart.js';
import { cliEnv, runCli, showRun, withEmbedded } from '../support/cli.js';
import { databaseKind } from '../support/database.js';
import { csrfFrom, startTestApp, type SignedIn, type TestApp } from '../support/harness.js';
import { plainMail } from '../support/smtp-client.js';

type Zip = Record<string, Uint8Array>;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A ZIP response body as bytes (supertest buffers unknown types only when asked). */
const binary = (res: supertest.Response) => res.body as Buffer;
const binaryParser = (res: NodeJS.ReadableStream & { setEncoding(e: string): void }, cb: (err: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
};

const textOf = (zip: Zip, name: string) => strFromU8(zip[name]!);
/** Every text entry, to prove something is nowhere in the file. */
const allText = (zip: Zip) => Object.entries(zip).map(([name, bytes]) => `${name}\n${strFromU8(bytes)}`).join('\n');
/** data.json and the summary without the moment they were made, to compare two exports of the same data. */
function comparable(zip: Zip) {
  const data = JSON.parse(textOf(zip, 'data.json')) as Json;
  delete data.export.generatedAt;
  const html = textOf(zip, 'sammanstallning.html').replace(/<p>Utdraget skapades [^<]*<\/p>/, '');
  const files = Object.fromEntries(Object.entries(zip).filter(([n]) => n.startsWith('bilagor/')).map(([n, b]) => [n, Buffer.from(b).toString('base64')]));
  return { names: Object.keys(zip).sort(), data, html, files };
}

/**
 * The data-subject export (registerutdrag): one person's every case (web,
 * e-mail, phone under another spelling of their number, a callback), the
 * reply, the attachments byte for byte, calls and mail, and nothing of anyone
 * else; hostile file names made safe; the web form's errors and its "nothing
 * found"; the CLI writing the same file.
 */
describe('data-subject export (registerutdrag)', function () {
  this.timeout(180_000);
  let t: TestApp;
  let manager: SignedIn;
  let agent: SignedIn;
  const tag = randomBytes(3).toString('hex');
  const anna = { name: 'Anna Ärlig', email: `anna.${tag}@example.com`, phone: '+46 70-123 45 67' };
  const bertil = { name: 'Bertil Annan', email: `bertil.${tag}@example.com`, phone: '073-999 88 77' };
  const BERTIL_SECRET = `bertils-hemlighet-${tag}`;
  const pdf = pdfBytes();
  const png = pngBytes();
  const refs = { web: '', mail: '', callback: '', phone: '', bertil: '' };
  const PAGE = '/agent/registerutdrag';

  /** The web form with files, as a browser sends it. */
  async function webCase(who: { name: string; email: string; phone: string }, message: string, files: { filename: string; content: Buffer; contentType: string }[]) {
    const client = t.request();
    const form = await client.get('/kontakt').expect(200);
    await postMultipart(client, '/kontakt', { _csrf: csrfFrom(form.text), category: 'bygglov', name: who.name, email: who.email, phone: who.phone, subject: 'Ritningar', message }, files).expect(303);
    return (await t.db('cases as c').join('residents as r', 'r.id', 'c.resident_id').whereRaw('lower(r.email) = ?', [who.email]).orderBy('c.id', 'desc').first('c.reference')).reference as string;
  }

  /** POSTs the form (with its CSRF token) and answers the response with a binary body. */
  async function submit(who: SignedIn, fields: Record<string, string>) {
    const page = await who.agent.get(PAGE).expect(200);
    return who.agent.post(PAGE).type('form').send({ _csrf: csrfFrom(page.text), ...fields }).buffer(true).parse(binaryParser as never);
  }

  const lastLogId = async () => Number((await t.db('access_log').max('id as id').first())?.id ?? 0);

  before(async () => {
    t = await startTestApp();
    manager = await t.loginAs('manager', 'Maja Chef');
    agent = await t.loginAs('agent', 'Ada Agent');

    // 1. Anna on the web form, with a drawing.
    refs.web = await webCase(anna, 'Behöver jag bygglov för ett plank?', [{ filename: 'ritning.pdf', content: pdf, contentType: 'application/pdf' }]);
    // 2. Anna by e-mail (the address in other letters' case: still her).
    await t.services.intake.store.store({
      source: 'smtp',
      recipient: 'kontaktcenter@borlange.example',
      envelopeFrom: anna.email.toUpperCase(),
      raw: Buffer.from(plainMail({ from: `Anna <${anna.email.toUpperCase()}>`, subject: 'Fråga om sophämtning', body: 'När töms kärlet?' })),
    });
    await t.intakeIdle();
    refs.mail = (await t.db('cases').where({ channel: 'email' }).orderBy('id', 'desc').first('reference')).reference;
    // 3. A reply on the web case.
    await agent.agent.post(`/api/v1/cases/${refs.web}/replies`).set('X-CSRF-Token', agent.csrf).send({ body: 'Hej Anna! Ett plank under 1,1 meter behöver inget bygglov.' }).expect(201);
    // 4. A callback Anna asked for.
    const slot = t.services.callbacks.slots()[0]!;
    refs.callback = (await t.request().post('/api/v1/callbacks').send({ name: anna.name, phone: '0701234567', email: anna.email, category: 'bygglov', slot: slot.start.toISOString(), message: 'Ring mig om plank' }).expect(201)).body.reference;
    // 5. A call an agent registered, her number written another way, no e-mail given.
    refs.phone = (await agent.agent.post('/api/v1/contacts').set('X-CSRF-Token', agent.csrf).send({ channel: 'phone', category: 'bygglov', summary: 'Ringde om plank igen', outcome: 'answered', name: 'Anna', phone: '070 123 45 67' }).expect(201)).body.reference;
    await t.db('calls').insert({ call_id: `call-anna-${tag}`, caller: '+46701234567', state: 'ended', outcome: 'completed', offered_at: new Date() });
    // A hostile attachment name (as stored by older code or a crafted row), twice, on her web case.
    const webCaseRow = await t.db('cases').where({ reference: refs.web }).first();
    for (const [i, name] of ['../../etc/passwd', '..\\..\\etc\\passwd'].entries()) {
      const key = `hostile/${tag}-${i}`;
      const file = t.services.attachments.pathOf(key);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, png);
      await t.db('attachments').insert({ case_id: webCaseRow.id, public_id: `hostile${tag}${i}`, filename: name, content_type: 'image/png', size_bytes: png.length, sha256: 'x'.repeat(64), storage_key: key });
    }

    // Someone else entirely: must not appear.
    refs.bertil = await webCase(bertil, `Mitt ärende: ${BERTIL_SECRET}`, [{ filename: 'bertil.pdf', content: pdf, contentType: 'application/pdf' }]);
    await t.db('calls').insert({ call_id: `call-bertil-${tag}`, caller: bertil.phone, state: 'ended', outcome: 'completed', offered_at: new Date() });
    await t.mailIdle();
  });
  after(() => t.close());

  let byEmail: Zip;
  let byEmailLogId = 0;

  it('by e-mail: one ZIP with the summary, data.json and every attachment; all of Anna, nothing of Bertil; recorded once', async () => {
    const before = await lastLogId();
    const res = await submit(manager, { email: `  ${anna.email.toUpperCase()} `, phone: '' });
    assert.equal(res.status, 200, String(res.body).slice(0, 500));
    assert.equal(res.headers['content-type'], 'application/zip');
    assert.match(res.headers['content-disposition']!, /^attachment; filename="registerutdrag-\d{4}-\d{2}-\d{2}\.zip"$/);
    assert.equal(res.headers['cache-control'], 'private, no-store');
    byEmail = unzipSync(new Uint8Array(binary(res)));

    const names = Object.keys(byEmail).sort();
    assert.deepEqual(names, ['bilagor/' + refs.web + '/passwd', 'bilagor/' + refs.web + '/passwd (2)', 'bilagor/' + refs.web + '/ritning.pdf', 'data.json', 'sammanstallning.html'].sort());
    for (const n of names) assert.ok(!n.includes('..') && !n.startsWith('/') && !n.includes('\\'), `a safe entry name: ${n}`);
    assert.ok(Buffer.from(byEmail[`bilagor/${refs.web}/ritning.pdf`]!).equals(pdf), 'the attachment byte for byte');
    assert.ok(Buffer.from(byEmail[`bilagor/${refs.web}/passwd`]!).equals(png));

    const data = JSON.parse(textOf(byEmail, 'data.json')) as Json;
    assert.deepEqual(data.export.subject, { email: anna.email }, 'the address in one spelling, however it was typed');
    const caseRefs = data.cases.map((c: Json) => c.reference).sort();
    assert.deepEqual(caseRefs, [refs.web, refs.mail, refs.callback, refs.phone].sort(), 'web, e-mail, callback and the phone case under another spelling');
    assert.ok(data.residents.some((r: Json) => r.email === anna.email && r.phone_key === '46701234567'));
    const web = data.cases.find((c: Json) => c.reference === refs.web);
    assert.equal(web.resident_token, undefined, 'the private link is a key, not data: left out');
    assert.ok(web.subject && web.status && web.created_at && 'first_response_at' in web, 'every field of the case');
    assert.deepEqual(
      web.messages.map((m: Json) => [m.kind, m.body]),
      [
        ['resident', 'Behöver jag bygglov för ett plank?'],
        ['reply', 'Hej Anna! Ett plank under 1,1 meter behöver inget bygglov.'],
      ],
      'messages in order',
    );
    assert.ok(web.events.some((e: Json) => e.type === 'case.created' && typeof e.payload === 'object'), 'events with payloads');
    assert.deepEqual(web.attachments.map((a: Json) => a.file).sort(), [`bilagor/${refs.web}/passwd`, `bilagor/${refs.web}/passwd (2)`, `bilagor/${refs.web}/ritning.pdf`]);
    const mail = data.cases.find((c: Json) => c.reference === refs.mail);
    assert.equal(mail.messages[0].body.trim(), 'När töms kärlet?');
    assert.ok(data.callbacks.some((cb: Json) => cb.phone === '0701234567' && Array.isArray(cb.attempts)), 'the callback');
    assert.deepEqual(data.calls.map((c: Json) => c.call_id), [`call-anna-${tag}`], 'the call matched by the number, however written');
    assert.ok(data.mailSent.length >= 2 && data.mailSent.every((m: Json) => m.to_address.toLowerCase() === anna.email), 'mail sent to her: acknowledgements and the reply');
    assert.ok(data.mailSent.some((m: Json) => /plank under 1,1 meter/.test(m.text_body)), 'the reply as mailed');
    assert.ok(data.mailReceived.some((m: Json) => m.envelope_from.toLowerCase() === anna.email && m.raw === undefined), 'the inbound mail: metadata, not the raw bytes');

    const html = textOf(byEmail, 'sammanstallning.html');
    for (const r of [refs.web, refs.mail, refs.callback, refs.phone]) assert.ok(html.includes(r), `the summary lists ${r}`);
    assert.match(html, /Hej Anna! Ett plank under 1,1 meter behöver inget bygglov\./);
    assert.ok(html.indexOf('Behöver jag bygglov') < html.indexOf('Hej Anna!'), 'messages in order in the summary');
    assert.match(html, /<html lang="sv">/);

    const everything = allText(byEmail);
    for (const foreign of [bertil.email, BERTIL_SECRET, refs.bertil, `call-bertil-${tag}`, 'bertil.pdf']) assert.ok(!everything.includes(foreign), `nothing of Bertil: ${foreign}`);

    const rows = await t.db('access_log').where('id', '>', before).orderBy('id');
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal(rows[0].action, 'subject.export');
    assert.equal(rows[0].user_id, manager.user.id);
    assert.equal(rows[0].target, anna.email);
    byEmailLogId = Number(rows[0].id);
  });

  it('by phone, however written: the same person and cases', async () => {
    const res = await submit(manager, { email: '', phone: '0046 (70) 123-45-67' });
    assert.equal(res.status, 200);
    const zip = unzipSync(new Uint8Array(binary(res)));
    const data = JSON.parse(textOf(zip, 'data.json')) as Json;
    assert.deepEqual(data.cases.map((c: Json) => c.reference).sort(), [refs.web, refs.mail, refs.callback, refs.phone].sort());
    assert.ok(!allText(zip).includes(BERTIL_SECRET));
    const row = await t.db('access_log').where('id', '>', byEmailLogId).where({ action: 'subject.export' }).first();
    assert.equal(row.target, '0046701234567', 'the number as given, without spaces, brackets and dashes');
  });

  it('an unknown address: the page says so, no file; the search is still recorded', async () => {
    const before = await lastLogId();
    const res = await submit(manager, { email: `ingen.${tag}@example.com` });
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type']!, /^text\/html/);
    assert.equal(res.headers['content-disposition'], undefined);
    assert.match(String(res.body), new RegExp(`Det finns inget sparat om ingen\\.${tag}@example\\.com\\. Ingen fil skapades\\.`));
    const rows = await t.db('access_log').where('id', '>', before);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].target, `ingen.${tag}@example.com`);
    assert.equal((typeof rows[0].detail === 'string' ? JSON.parse(rows[0].detail) : rows[0].detail).found, false);
  });

  it('bad input: 400 with the field named and nothing recorded; no CSRF token: 403', async () => {
    const before = await lastLogId();
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ email: '', phone: '' }, 'f-email', /Fyll i en e-postadress eller ett telefonnummer\./],
      [{ email: anna.email, phone: '0701234567' }, 'f-email', /Fyll i antingen e-postadress eller telefonnummer, inte båda\./],
      [{ email: 'inte-en-adress' }, 'f-email', /Skriv e-postadressen som namn@exempel\.se\./],
      [{ phone: '12' }, 'f-phone', /Skriv ett telefonnummer med siffror/],
    ];
    for (const [fields, id, text] of cases) {
      const res = await submit(manager, fields);
      const html = String(res.body);
      assert.equal(res.status, 400, JSON.stringify(fields));
      assert.match(html, /class="error-summary"/);
      assert.ok(html.includes(`href="#${id}"`), `${JSON.stringify(fields)} links to ${id}`);
      assert.match(html, new RegExp(`id="${id}"[^>]*aria-invalid="true"`));
      assert.match(html, text);
    }
    await manager.agent.post(PAGE).type('form').send({ email: anna.email }).expect(403);
    assert.equal(await lastLogId(), before, 'nothing recorded');
  });

  it('a protected identity: a manager without the permission gets no file (403, recorded as refused); one with it gets the file', async () => {
    const tagged = `skyddad.${tag}@example.com`;
    await webCase({ name: 'Sam Skyddad', email: tagged, phone: '' }, 'Skyddad fråga', []);
    await t.db('residents').whereRaw('lower(email) = ?', [tagged]).update({ protected_identity: true });
    const before = await lastLogId();
    const refused = await submit(manager, { email: tagged });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers['content-disposition'], undefined, 'no file');
    assert.match(String(refused.body), /role="alert" id="subject-export-refused">Uppgifterna gäller en person med skyddad identitet/);
    assert.doesNotMatch(String(refused.body), /Sam Skyddad/);
    const [row, ...more] = await t.db('access_log').where('id', '>', before);
    assert.equal(more.length, 0);
    const detail = typeof row.detail === 'string' ? JSON.parse(row.detail) : row.detail;
    assert.deepEqual([row.action, row.target, detail.refused], ['subject.export', tagged, 'protected_identity']);

    const permitted = await t.loginAs('manager', 'Behörig Chef');
    await t.db('users').where({ id: permitted.user.id }).update({ sees_protected: true });
    const ok = await submit(permitted, { email: tagged });
    assert.equal(ok.status, 200);
    assert.match(ok.headers['content-disposition']!, /^attachment; filename=/);
  });

  it('agents and editors get 403 on the page and the form', async () => {
    const editor = await t.loginAs('editor');
    for (const who of [agent, editor]) {
      await who.agent.get(PAGE).expect(403);
      await who.agent.post(PAGE).type('form').send({ _csrf: who.csrf, email: anna.email }).expect(403);
    }
  });

  it('the CLI writes the same file, records it without a user (via cli), refuses to overwrite; bad usage exits 2', async function () {
    const dir = mkdtempSync(path.join(tmpdir(), 'sc-export-'));
    try {
      let env: NodeJS.ProcessEnv;
      let expected: Zip;
      let email = anna.email;
      if (databaseKind === 'postgres') {
        // The same database and files as the app: the file must equal the web download.
        env = cliEnv({ dataDir: t.dataDir, databaseUrl: t.databaseUrl });
        expected = byEmail;
      } else {
        // The embedded database is one process's at a time: the CLI gets its own, filled here first.
        const dataDir = path.join(dir, 'data');
        env = cliEnv({ dataDir });
        email = `cli.${tag}@example.com`;
        const upload = path.join(dir, 'upload.pdf');
        writeFileSync(upload, pdf);
        expected = await withEmbedded(dataDir, async (s) => {
          await migrateLatest(s.db);
          await seedReferenceData(s);
          await s.cases.createCase({ name: 'Cli Person', email, phone: '070-555 44 33', category: 'bygglov', subject: 'Staket', message: 'Får jag sätta upp ett staket?' }, { channel: 'web', files: [{ path: upload, originalname: 'staket.pdf', size: pdf.length }] });
          return exportInProcess(s, email);
        });
      }
      const out = path.join(dir, 'utdrag.zip');
      const run = await runCli(env, 'privacy:export', '--email', email, '--out', out);
      assert.equal(run.code, 0, showRun(run));
      assert.match(run.stdout, /Registerutdrag for .*: \d+ case\(s\), \d+ attachment\(s\), written to /);
      assert.equal(statSync(out).mode & 0o077, 0, 'personal data: readable by the owner only');
      const written = unzipSync(new Uint8Array(readFileSync(out)));
      assert.deepEqual(comparable(written), comparable(expected));
      assert.deepEqual(readdirNames(dir).filter((n) => n.endsWith('.part')), [], 'no half file left');

      const rows = databaseKind === 'postgres' ? await t.db('access_log').where({ action: 'subject.export', target: email }).whereNull('user_id') : await withEmbedded(path.join(dir, 'data'), (s) => s.db('access_log').where({ action: 'subject.export' }).whereNull('user_id'));
      assert.equal(rows.length, 1);
      assert.equal(rows[0].token_id, null);
      assert.deepEqual(typeof rows[0].detail === 'string' ? JSON.parse(rows[0].detail).via : rows[0].detail.via, 'cli');

      const again = await runCli(env, 'privacy:export', '--email', email, '--out', out);
      assert.equal(again.code, 1, showRun(again));
      assert.match(again.stderr, /exists already/);

      const nobody = await runCli(env, 'privacy:export', '--email', `ingen.${tag}@example.com`, '--out', path.join(dir, 'ingen.zip'));
      assert.equal(nobody.code, 1, showRun(nobody));
      assert.match(nobody.stderr, /Nothing is stored about/);
      assert.ok(!existsSync(path.join(dir, 'ingen.zip')), 'no empty file');

      for (const [args, says] of [
        [['--email', email], /--out: the file to write is required/],
        [['--email', email, '--phone', '0701234567', '--out', path.join(dir, 'x.zip')], /--email: give exactly one of --email ADDRESS and --phone NUMBER/],
        [['--phone', 'ring mig', '--out', path.join(dir, 'x.zip')], /--phone: a phone number of digits/],
      ] as const) {
        const bad = await runCli(env, 'privacy:export', ...args);
        assert.equal(bad.code, 2, `${args.join(' ')}\n${showRun(bad)}`);
        assert.match(bad.stderr, says);
      }
      assert.ok(!existsSync(path.join(dir, 'x.zip')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function readdirNames(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** The export as the web route makes it, without HTTP. */
async function exportInProcess(s: Services, email: string): Promise<Zip> {
  const exp = await s.subjectExport.prepare(s.subjectExport.parse({ email }));
  assert.ok(exp);
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  await s.subjectExport.write(exp, sink);
  return unzipSync(new Uint8Array(Buffer.concat(chunks)));
}
