import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type supertest from 'supertest';
import type { AttachmentRow } from '../../server/attachments/store.js';
import type { CaseRow } from '../../server/cases/store.js';
import { translate } from '../../server/platform/i18n.js';
import { EXE_BYTES, filesUnder, HTML_BYTES, pdfBytes, pngBytes, sha256Hex, SVG_BYTES } from '../fixtures/files.js';
import { postMultipart, type UploadFile } from '../fixtures/multipart.js';
import { csrfFrom, rowCounts, startTestApp, type SignedIn, type TestApp } from '../support/harness.js';

/**
 * Files from residents: what is kept (and how), what is refused (and that a
 * refusal leaves nothing behind), and how files are served back.
 */

let seq = 0;
const fields = (overrides: Record<string, string> = {}) => ({
  category: 'bygglov',
  name: 'Olle Ås',
  email: `olle.${Date.now().toString(36)}.${++seq}@example.com`,
  phone: '',
  subject: 'Ritningar till bygglovet',
  message: 'Här är ritningen och ett foto av tomten.',
  ...overrides,
});

/** Opens the form and sends it with files, as a browser does; `status` is then expected. */
async function sendForm(client: supertest.Agent, files: UploadFile[], overrides: Record<string, string> = {}, status?: number): Promise<supertest.Response> {
  const page = await client.get('/kontakt').expect(200);
  const req = postMultipart(client, '/kontakt', { _csrf: csrfFrom(page.text), ...fields(overrides) }, files);
  return status === undefined ? req : req.expect(status);
}

const tokenOf = (location: string | undefined) => {
  const m = /^\/kvitto\/([A-Za-z0-9_-]{43})$/.exec(location ?? '');
  assert.ok(m, `redirects to the receipt, got ${location}`);
  return m[1]!;
};

async function caseOf(t: TestApp, token: string): Promise<CaseRow> {
  const c = await t.db<CaseRow>('cases').where({ resident_token: token }).first();
  assert.ok(c);
  return c;
}

const attachmentsOf = (t: TestApp, caseId: number) => t.db<AttachmentRow>('attachments').where({ case_id: caseId }).orderBy('id');

/** The field error shown on the file input. */
function attachmentError(html: string): string {
  const m = /<p class="field-error" id="f-attachments-error"><span class="visually-hidden">[^<]*<\/span> ([^<]+)<\/p>/.exec(html);
  assert.ok(m, 'the file field shows an error');
  assert.match(html, /id="f-attachments"[^>]*aria-invalid="true"/);
  return m[1]!;
}

const PDF = pdfBytes();
const PNG = pngBytes();

describe('uploads', () => {
  let t: TestApp;
  let tmp: string;
  before(async () => {
    t = await startTestApp();
    tmp = path.join(t.dataDir, 'tmp');
  });
  after(() => t.close());

  describe('kept files', () => {
    let token: string;
    let c: CaseRow;
    let rows: AttachmentRow[];

    it('a real PDF and PNG are stored: rows with sha256 and size, files under the attachment folder', async () => {
      const before = await rowCounts(t.db);
      const res = await sendForm(
        t.request(),
        [
          // What the browser claims is ignored: the bytes decide.
          { filename: 'ritning-åäö.pdf', content: PDF, contentType: 'text/html' },
          { filename: 'tomten.png', content: PNG, contentType: 'application/octet-stream' },
        ],
        {},
        303,
      );
      token = tokenOf(res.headers.location);
      c = await caseOf(t, token);
      const after = await rowCounts(t.db);
      assert.equal(after.attachments, before.attachments + 2);
      assert.equal(after.cases, before.cases + 1);

      rows = await attachmentsOf(t, c.id);
      assert.equal(rows.length, 2);
      const [pdf, png] = rows as [AttachmentRow, AttachmentRow];
      const message = await t.db('messages').where({ case_id: c.id }).first();
      for (const [row, bytes, type, name] of [
        [pdf, PDF, 'application/pdf', 'ritning-åäö.pdf'],
        [png, PNG, 'image/png', 'tomten.png'],
      ] as const) {
        assert.equal(row.filename, name);
        assert.equal(row.content_type, type);
        assert.equal(Number(row.size_bytes), bytes.length);
        assert.equal(row.sha256, sha256Hex(bytes));
        assert.equal(row.message_id, message.id, 'tied to the first message');
        assert.match(row.public_id, /^[A-Za-z0-9_-]{20,}$/);
        const onDisk = path.resolve(t.config.uploads.dir, row.storage_key);
        assert.ok(onDisk.startsWith(path.resolve(t.config.uploads.dir) + path.sep), 'inside the attachment folder');
        assert.deepEqual(readFileSync(onDisk), bytes, 'the stored file is the uploaded file');
        assert.ok(!row.storage_key.includes(row.filename), "the client's name is not used on disk");
      }
      assert.equal(filesUnder(t.config.uploads.dir).length, 2);
      assert.deepEqual(filesUnder(tmp), [], 'nothing is left in the temporary folder');
    });

    it('the resident page links the files', async () => {
      const page = await t.request().get(`/arende/${token}`).expect(200);
      for (const row of rows) {
        assert.ok(page.text.includes(`href="/arende/${token}/bilagor/${row.public_id}"`), `links ${row.filename}`);
        assert.ok(page.text.includes(`>${row.filename}</a>`));
      }
    });

    it('the resident download: attachment with an RFC 5987 name, the detected type, nosniff, no-store', async () => {
      const pdf = rows[0]!;
      const res = await t
        .request()
        .get(`/arende/${token}/bilagor/${pdf.public_id}`)
        .buffer(true)
        .parse((r, cb) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => cb(null, Buffer.concat(chunks)));
        })
        .expect(200);
      const disposition = String(res.headers['content-disposition']);
      assert.match(disposition, /^attachment;/);
      assert.ok(disposition.includes("filename*=UTF-8''ritning-%C3%A5%C3%A4%C3%B6.pdf"), disposition);
      assert.match(disposition, /filename="ritning-[^"]*\.pdf"/, 'with a plain fallback name');
      assert.ok(/^[\x20-\x7e]*$/.test(disposition), 'the header itself is plain ASCII');
      assert.equal(res.headers['content-type'], 'application/pdf');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.match(String(res.headers['cache-control']), /no-store/);
      assert.deepEqual(res.body, PDF);
    });

    it('the PNG is served as image/png although the browser said octet-stream', async () => {
      const png = rows[1]!;
      const res = await t.request().get(`/arende/${token}/bilagor/${png.public_id}`).expect(200);
      assert.equal(res.headers['content-type'], 'image/png');
      assert.match(String(res.headers['content-disposition']), /^attachment; filename="?tomten\.png"?$/);
    });

    it("another case's link cannot download it, nor can a made-up link or id (404)", async () => {
      const other = await sendForm(t.request(), [], {}, 303);
      const otherToken = tokenOf(other.headers.location);
      await t.request().get(`/arende/${otherToken}/bilagor/${rows[0]!.public_id}`).expect(404);
      await t.request().get(`/arende/${randomBytes(32).toString('base64url')}/bilagor/${rows[0]!.public_id}`).expect(404);
      await t.request().get(`/arende/${token}/bilagor/${randomBytes(16).toString('base64url')}`).expect(404);
      await t.request().get(`/arende/not-a-token/bilagor/${rows[0]!.public_id}`).expect(404);
    });

    describe('for staff', () => {
      let agent: SignedIn;
      before(async () => {
        agent = await t.loginAs('agent');
      });

      it('the agent sees the files linked in the case view', async () => {
        const page = await agent.agent.get(`/agent/cases/${c.reference}`).expect(200);
        for (const row of rows) {
          assert.ok(page.text.includes(`href="/agent/attachments/${row.public_id}"`), `links ${row.filename}`);
          assert.ok(page.text.includes(`>${row.filename}</a>`));
        }
      });

      it('the agent download has the same safe headers', async () => {
        const res = await agent.agent.get(`/agent/attachments/${rows[0]!.public_id}`).expect(200);
        const disposition = String(res.headers['content-disposition']);
        assert.match(disposition, /^attachment;/);
        assert.ok(disposition.includes("filename*=UTF-8''ritning-%C3%A5%C3%A4%C3%B6.pdf"), disposition);
        assert.equal(res.headers['content-type'], 'application/pdf');
        assert.equal(res.headers['x-content-type-options'], 'nosniff');
        assert.match(String(res.headers['cache-control']), /no-store/);
        await agent.agent.get(`/agent/attachments/${randomBytes(16).toString('base64url')}`).expect(404);
      });

      it('an anonymous visitor is sent to the login page, and gets no file', async () => {
        const res = await t.request().get(`/agent/attachments/${rows[0]!.public_id}`);
        assert.ok(res.status === 303 || res.status === 302 || res.status === 401, `status ${res.status}`);
        if (res.status !== 401) assert.match(String(res.headers.location), /^\/login\?next=/);
        assert.equal(res.headers['content-disposition'], undefined);
        assert.notEqual(res.headers['content-type'], 'application/pdf');
      });
    });

    it('a follow-up message can carry a file, tied to that message', async () => {
      const client = t.request();
      const page = await client.get(`/arende/${token}`).expect(200);
      await postMultipart(client, `/arende/${token}`, { _csrf: csrfFrom(page.text), message: 'Ett foto till.' }, [
        { filename: 'foto2.png', content: PNG, contentType: 'image/png' },
      ]).expect(303);
      const all = await attachmentsOf(t, c.id);
      assert.equal(all.length, 3);
      const last = all[2]!;
      const msg = await t.db('messages').where({ case_id: c.id }).orderBy('id', 'desc').first();
      assert.equal(last.message_id, msg.id);
      assert.equal(msg.body, 'Ett foto till.');
      assert.deepEqual(filesUnder(tmp), []);
    });

    it('a name with a path is stored with a safe name (no slashes, no leading dots)', async () => {
      const res = await sendForm(
        t.request(),
        [
          { filename: '../../etc/passwd.pdf', content: PDF },
          { filename: '..\\..\\x.pdf', content: PDF },
          { filename: '.hidden.png', content: PNG },
        ],
        {},
        303,
      );
      const stored = await attachmentsOf(t, (await caseOf(t, tokenOf(res.headers.location))).id);
      assert.equal(stored.length, 3);
      for (const row of stored) {
        assert.doesNotMatch(row.filename, /[/\\]/, `no path in ${row.filename}`);
        assert.doesNotMatch(row.filename, /^\./, `no leading dot in ${row.filename}`);
        assert.ok(row.filename.length > 0);
        const onDisk = path.resolve(t.config.uploads.dir, row.storage_key);
        assert.ok(onDisk.startsWith(path.resolve(t.config.uploads.dir) + path.sep));
      }
      assert.deepEqual(
        stored.map((r) => r.filename),
        ['passwd.pdf', 'x.pdf', 'hidden.png'],
      );
      for (const f of filesUnder(t.dataDir)) assert.ok(f.startsWith(t.dataDir), `nothing written outside: ${f}`);
    });
  });

  describe('refused files write nothing', () => {
    const refuse = async (files: UploadFile[]) => {
      const before = await rowCounts(t.db);
      const storedBefore = filesUnder(t.config.uploads.dir).length;
      const res = await sendForm(t.request(), files, { name: 'Kvar Namn' }, 400);
      assert.deepEqual(await rowCounts(t.db), before, 'no rows written');
      assert.equal(filesUnder(t.config.uploads.dir).length, storedBefore, 'no file stored');
      assert.deepEqual(filesUnder(tmp), [], 'no temporary file left');
      assert.ok(res.text.includes('value="Kvar Namn"'), 'the form keeps what was written');
      return attachmentError(res.text);
    };

    for (const [label, file] of [
      ['a Windows program (.exe)', { filename: 'faktura.exe', content: EXE_BYTES, contentType: 'application/x-msdownload' }],
      ['an HTML page (.html)', { filename: 'sida.html', content: HTML_BYTES, contentType: 'text/html' }],
      ['an SVG image (.svg)', { filename: 'bild.svg', content: SVG_BYTES, contentType: 'image/svg+xml' }],
      ['HTML bytes named .pdf', { filename: 'ritning.pdf', content: HTML_BYTES, contentType: 'application/pdf' }],
      ['PNG bytes named .pdf', { filename: 'ritning.pdf', content: PNG, contentType: 'application/pdf' }],
      ['a PDF named .html', { filename: 'ritning.html', content: PDF, contentType: 'application/pdf' }],
    ] as const) {
      it(`${label} → 400 with the file field's error`, async () => {
        const message = await refuse([file]);
        assert.ok(message.includes(file.filename), `names the file: ${message}`);
      });
    }

    it('one bad file among good ones refuses them all', async () => {
      await refuse([
        { filename: 'ritning.pdf', content: PDF },
        { filename: 'sida.html', content: HTML_BYTES },
      ]);
    });

    it('an empty file → 400', async () => {
      await refuse([{ filename: 'tom.pdf', content: Buffer.alloc(0) }]);
    });
  });
});

describe('uploads: limits', () => {
  let t: TestApp;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sc-uploads-'));
    t = await startTestApp({ config: { uploads: { dir, maxBytes: 1024, maxFiles: 2 } } });
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const big = Buffer.concat([PDF, Buffer.alloc(2048, 0x20)]);

  async function refused(res: supertest.Response, code: string) {
    assert.equal(res.status, 400);
    const message = attachmentError(res.text);
    // The text up to its first placeholder, such as "En fil är för stor. … högst {max}".
    const expected = translate('sv', code).split('{')[0]!;
    assert.ok(expected.length > 5 && message.startsWith(expected), `${message} (${code})`);
    assert.deepEqual(filesUnder(path.join(t.dataDir, 'tmp')), [], 'no temporary file left');
    assert.deepEqual(filesUnder(dir), [], 'nothing stored');
  }

  it('a file over the limit → 400 with the file field error, nothing written, nothing left on disk', async () => {
    const before = await rowCounts(t.db);
    const res = await sendForm(t.request(), [{ filename: 'stor.pdf', content: big, contentType: 'application/pdf' }], { name: 'Stor Fil' });
    await refused(res, 'errors.attachment_too_large');
    assert.ok(res.text.includes('value="Stor Fil"'));
    assert.deepEqual(await rowCounts(t.db), before);
  });

  it('a small file and a file over the limit → 400, the small one is not kept either', async () => {
    const before = await rowCounts(t.db);
    const res = await sendForm(t.request(), [
      { filename: 'liten.png', content: PNG },
      { filename: 'stor.pdf', content: big },
    ]);
    await refused(res, 'errors.attachment_too_large');
    assert.deepEqual(await rowCounts(t.db), before);
  });

  it('too many files → 400 with the file field error, nothing written', async () => {
    const before = await rowCounts(t.db);
    const res = await sendForm(t.request(), [
      { filename: 'a.png', content: PNG },
      { filename: 'b.png', content: PNG },
      { filename: 'c.png', content: PNG },
    ]);
    await refused(res, 'errors.attachment_too_many');
    assert.ok(attachmentError(res.text).includes('2'), 'says how many are allowed');
    assert.deepEqual(await rowCounts(t.db), before);
  });

  it('a file over the limit on a follow-up → 400 on the case page, nothing written', async () => {
    const created = await sendForm(t.request(), [], {}, 303);
    const token = tokenOf(created.headers.location);
    const client = t.request();
    const page = await client.get(`/arende/${token}`).expect(200);
    const before = await rowCounts(t.db);
    const res = await postMultipart(client, `/arende/${token}`, { _csrf: csrfFrom(page.text), message: 'Här kommer ritningen.' }, [
      { filename: 'stor.pdf', content: big },
    ]);
    await refused(res, 'errors.attachment_too_large');
    assert.ok(res.text.includes('Här kommer ritningen.</textarea>'), 'the message is kept');
    assert.deepEqual(await rowCounts(t.db), before);
  });

  it('files within the limits are kept', async () => {
    const res = await sendForm(
      t.request(),
      [
        { filename: 'a.pdf', content: PDF },
        { filename: 'b.png', content: PNG },
      ],
      {},
      303,
    );
    const c = await caseOf(t, tokenOf(res.headers.location));
    assert.equal((await attachmentsOf(t, c.id)).length, 2);
    assert.equal(filesUnder(dir).length, 2);
  });
});
