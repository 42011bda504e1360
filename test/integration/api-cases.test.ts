import { strict as assert } from 'node:assert';
import { MESSAGE_MAX } from '../../server/cases/schemas.js';
import { newCase, rowCounts, startTestApp, type TestApp } from '../support/harness.js';
import { countOf } from './helpers.js';

interface FieldErrorBody {
  error: string;
  message: string;
  fields: Record<string, string>;
  errors: { field: string; code: string; message: string }[];
}

const stockholmYear = (d: Date) => new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm', year: 'numeric' }).format(d);

describe('API: POST /api/v1/cases', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  /** Sends a case that must be refused and proves nothing was written. */
  async function refused(body: unknown, status = 400): Promise<FieldErrorBody> {
    const before = await rowCounts(t.db);
    const res = await t.request().post('/api/v1/cases').send(body as object).expect('Content-Type', /json/).expect(status);
    assert.deepEqual(await rowCounts(t.db), before, 'a refused request writes nothing');
    return res.body as FieldErrorBody;
  }

  /** Asserts a validation answer that names exactly these fields, with these codes where given. */
  function assertFields(body: FieldErrorBody, expected: Record<string, string | undefined>) {
    assert.equal(body.error, 'validation_failed');
    assert.deepEqual(Object.keys(body.fields).sort(), Object.keys(expected).sort(), `fields: ${JSON.stringify(body.fields)}`);
    assert.deepEqual(body.errors.map((e) => e.field).sort(), Object.keys(expected).sort());
    for (const [field, code] of Object.entries(expected)) {
      assert.equal(typeof body.fields[field], 'string');
      assert.ok(body.fields[field]!.length > 0, `a message for ${field}`);
      if (code) assert.equal(body.errors.find((e) => e.field === field)?.code, code, `code of ${field}`);
    }
  }

  describe('a valid case', () => {
    it('answers 201 with reference, status, statusUrl and createdAt, and a Location header', async () => {
      const body = newCase();
      const started = Date.now();
      const res = await t.request().post('/api/v1/cases').send(body).expect('Content-Type', /json/).expect(201);
      assert.deepEqual(Object.keys(res.body).sort(), ['createdAt', 'reference', 'status', 'statusUrl']);
      assert.match(res.body.reference, /^SC-\d{4}-\d{6}$/);
      assert.equal(res.body.status, 'new');
      assert.match(res.body.statusUrl, /^http:\/\/localhost:3000\/arende\/[A-Za-z0-9_-]{43}$/);
      assert.ok(res.body.statusUrl.startsWith(`${t.config.publicUrl}/arende/`));
      const createdAt = new Date(res.body.createdAt);
      assert.equal(createdAt.toISOString(), res.body.createdAt, 'createdAt is an ISO timestamp');
      assert.ok(Math.abs(createdAt.getTime() - started) < 60_000, 'createdAt is now');
      assert.equal(res.body.reference.slice(3, 7), stockholmYear(createdAt), 'the reference carries the year');
      assert.equal(res.headers.location, `/api/v1/cases/${res.body.reference}`);
    });

    it('writes the case, a case.created event, the message and an acknowledgement mail', async () => {
      const body = newCase({ subject: 'Bygglov för carport', message: 'Hej!\nFår jag bygga en carport på 30 kvm?' });
      const before = await rowCounts(t.db);
      const res = await t.request().post('/api/v1/cases').send(body).expect(201);
      const after = await rowCounts(t.db);
      assert.deepEqual(after, {
        ...before,
        cases: before.cases! + 1,
        case_events: before.case_events! + 1,
        messages: before.messages! + 1,
        residents: before.residents! + 1,
        mail_outbox: before.mail_outbox! + 1,
      });

      const token = res.body.statusUrl.split('/arende/')[1];
      const c = await t.db('cases').where({ reference: res.body.reference }).first();
      assert.ok(c);
      assert.equal(c.status, 'new');
      assert.equal(c.channel, 'api');
      assert.equal(c.subject, 'Bygglov för carport');
      assert.equal(c.resident_token, token);
      assert.equal(c.resident_message_count, 1);
      assert.equal(c.agent_reply_count, 0);
      assert.equal(new Date(c.created_at).toISOString(), res.body.createdAt);
      const category = await t.db('categories').where({ id: c.category_id }).first();
      assert.equal(category.slug, 'bygglov');

      const resident = await t.db('residents').where({ id: c.resident_id }).first();
      assert.equal(resident.name, 'Sara Öberg');
      assert.equal(resident.email, body.email);

      const events = await t.db('case_events').where({ case_id: c.id });
      assert.equal(events.length, 1);
      assert.equal(events[0].type, 'case.created');
      assert.equal(events[0].actor_type, 'resident');
      assert.equal(events[0].internal, false);
      assert.equal(events[0].payload.category, 'bygglov');
      assert.equal(events[0].payload.channel, 'api');

      const messages = await t.db('messages').where({ case_id: c.id });
      assert.equal(messages.length, 1);
      assert.equal(messages[0].kind, 'resident');
      assert.equal(messages[0].event_id, events[0].id);
      assert.equal(messages[0].body, 'Hej!\nFår jag bygga en carport på 30 kvm?');

      const mails = await t.db('mail_outbox').where({ case_id: c.id });
      assert.equal(mails.length, 1);
      assert.equal(mails[0].kind, 'acknowledgement');
      assert.equal(mails[0].to_address, body.email);
      assert.ok(mails[0].subject.includes(res.body.reference), 'the acknowledgement subject names the reference');
      assert.ok(mails[0].text_body.includes(res.body.statusUrl), 'the acknowledgement carries the private link');
    });

    it('takes the subject from the first line of the message when none is given', async () => {
      const body = newCase({ message: '\n  Trasig gatlykta på Stationsgatan  \nDen har varit släckt länge.' });
      delete body.subject;
      const res = await t.request().post('/api/v1/cases').send(body).expect(201);
      const c = await t.db('cases').where({ reference: res.body.reference }).first();
      assert.equal(c.subject, 'Trasig gatlykta på Stationsgatan');
    });

    it('accepts a resident with only a phone number, and sends no acknowledgement', async () => {
      const body = newCase({ phone: '070-123 45 67', category: 'forskoleplats' });
      delete body.email;
      const before = await rowCounts(t.db);
      const res = await t.request().post('/api/v1/cases').send(body).expect(201);
      const after = await rowCounts(t.db);
      assert.equal(after.cases, before.cases! + 1);
      assert.equal(after.residents, before.residents! + 1);
      assert.equal(after.mail_outbox, before.mail_outbox, 'nobody to acknowledge by e-mail');
      const c = await t.db('cases').where({ reference: res.body.reference }).first();
      const resident = await t.db('residents').where({ id: c.resident_id }).first();
      assert.equal(resident.email, null);
      assert.equal(resident.phone, '0701234567', 'spaces and dashes are dropped');
    });

    it('keeps one resident for the same e-mail address, whatever its case, with both cases', async () => {
      const email = `same.${Date.now()}@example.com`;
      const first = await t.request().post('/api/v1/cases').send(newCase({ email })).expect(201);
      const before = await rowCounts(t.db);
      const second = await t.request().post('/api/v1/cases').send(newCase({ email: email.toUpperCase(), name: 'Sara Ö.' })).expect(201);
      const after = await rowCounts(t.db);
      assert.equal(after.residents, before.residents, 'no second resident');
      assert.equal(after.cases, before.cases! + 1);
      const a = await t.db('cases').where({ reference: first.body.reference }).first();
      const b = await t.db('cases').where({ reference: second.body.reference }).first();
      assert.equal(a.resident_id, b.resident_id);
      assert.equal(await countOf(t.db, 'cases', { resident_id: a.resident_id }), 2);
      assert.notEqual(a.resident_token, b.resident_token, 'each case has its own link');
      assert.notEqual(first.body.reference, second.body.reference);
    });

    it('keeps one resident for the same phone number when there is no e-mail', async () => {
      const phone = `+46 70 ${String(Date.now()).slice(-7)}`;
      const first = await t.request().post('/api/v1/cases').send(newCase({ email: undefined, phone })).expect(201);
      const second = await t.request().post('/api/v1/cases').send(newCase({ email: undefined, phone })).expect(201);
      const a = await t.db('cases').where({ reference: first.body.reference }).first();
      const b = await t.db('cases').where({ reference: second.body.reference }).first();
      assert.equal(a.resident_id, b.resident_id);
    });

    it('accepts a message of exactly the maximum length and a subject of 200 characters', async () => {
      await t.request().post('/api/v1/cases').send(newCase({ message: 'a'.repeat(MESSAGE_MAX), subject: 's'.repeat(200) })).expect(201);
    });

    it('gives every case its own rising reference', async () => {
      const refs: string[] = [];
      for (let i = 0; i < 3; i++) refs.push((await t.request().post('/api/v1/cases').send(newCase()).expect(201)).body.reference);
      const numbers = refs.map((r) => Number(r.slice(-6)));
      assert.ok(numbers[0]! < numbers[1]! && numbers[1]! < numbers[2]!, `rising: ${refs.join(', ')}`);
    });
  });

  describe('refused input writes nothing', () => {
    it('a missing name', async () => {
      const body = newCase();
      delete body.name;
      assertFields(await refused(body), { name: 'errors.name_required' });
    });

    it('a name of only spaces', async () => {
      assertFields(await refused(newCase({ name: '   ' })), { name: 'errors.name_required' });
    });

    it('a missing message', async () => {
      const body = newCase();
      delete body.message;
      assertFields(await refused(body), { message: 'errors.message_required' });
    });

    it('neither e-mail nor phone', async () => {
      const body = newCase();
      delete body.email;
      assertFields(await refused(body), { email: 'errors.contact_required' });
    });

    it('empty e-mail and phone count as not given', async () => {
      assertFields(await refused(newCase({ email: '', phone: '  ' })), { email: 'errors.contact_required' });
    });

    it('a malformed e-mail address', async () => {
      assertFields(await refused(newCase({ email: 'sara.example.com' })), { email: 'errors.email_invalid' });
      assertFields(await refused(newCase({ email: 'sara@' })), { email: 'errors.email_invalid' });
    });

    it('a malformed phone number', async () => {
      assertFields(await refused(newCase({ email: undefined, phone: 'ring mig' })), { phone: 'errors.phone_invalid' });
      assertFields(await refused(newCase({ phone: '12' })), { phone: 'errors.phone_invalid' });
    });

    it(`a message over ${MESSAGE_MAX} characters`, async () => {
      assertFields(await refused(newCase({ message: 'a'.repeat(MESSAGE_MAX + 1) })), { message: 'errors.too_long' });
    });

    it('a subject over 200 characters', async () => {
      assertFields(await refused(newCase({ subject: 's'.repeat(201) })), { subject: 'errors.too_long' });
    });

    it('a name over 200 characters', async () => {
      assertFields(await refused(newCase({ name: 'n'.repeat(201) })), { name: 'errors.too_long' });
    });

    it('numbers where text belongs', async () => {
      assertFields(await refused(newCase({ name: 42 })), { name: 'errors.invalid_type' });
      assertFields(await refused(newCase({ message: 1234 })), { message: 'errors.invalid_type' });
      assertFields(await refused(newCase({ email: 42 })), { email: 'errors.invalid_type' });
      assertFields(await refused(newCase({ phone: 46701234567 })), { phone: 'errors.invalid_type' });
      assertFields(await refused(newCase({ category: 7 })), { category: 'errors.invalid_type' });
    });

    it('arrays and objects where text belongs', async () => {
      assertFields(await refused(newCase({ message: ['Hej', 'igen'] })), { message: 'errors.invalid_type' });
      assertFields(await refused(newCase({ name: { first: 'Sara' } })), { name: 'errors.invalid_type' });
      assertFields(await refused(newCase({ email: ['a@example.com'] })), { email: 'errors.invalid_type' });
      assertFields(await refused(newCase({ subject: { text: 'x' } })), { subject: 'errors.invalid_type' });
      assertFields(await refused(newCase({ category: ['bygglov'] })), { category: 'errors.invalid_type' });
    });

    it('null where text belongs', async () => {
      assertFields(await refused(newCase({ name: null })), { name: 'errors.name_required' });
      assertFields(await refused(newCase({ message: null })), { message: 'errors.message_required' });
      assertFields(await refused(newCase({ category: null })), { category: 'errors.category_required' });
    });

    it('an unknown language', async () => {
      assertFields(await refused(newCase({ language: 'xx' })), { language: 'errors.invalid_choice' });
    });

    it('an unknown category', async () => {
      assertFields(await refused(newCase({ category: 'finns-inte' })), { category: 'errors.category_unknown' });
    });

    it('a category that is not a slug', async () => {
      assertFields(await refused(newCase({ category: 'Bygg lov!' })), { category: 'errors.invalid_choice' });
    });

    it('a missing category', async () => {
      const body = newCase();
      delete body.category;
      assertFields(await refused(body), { category: 'errors.category_required' });
    });

    it('an inactive category', async () => {
      await t.db('categories').insert({ slug: 'nedlagd', name_sv: 'Nedlagd', name_en: 'Retired', active: false });
      assertFields(await refused(newCase({ category: 'nedlagd' })), { category: 'errors.category_unknown' });
    });

    it('reports an unknown category together with the other field errors', async () => {
      const body = newCase({ category: 'finns-inte', email: 'nope', message: '' });
      delete body.name;
      assertFields(await refused(body), {
        name: 'errors.name_required',
        email: 'errors.email_invalid',
        message: 'errors.message_required',
        category: 'errors.category_unknown',
      });
    });

    it('a JSON array or an empty object instead of a case', async () => {
      const arr = await refused([newCase()]);
      assert.equal(arr.error, 'validation_failed');
      const empty = await refused({});
      assert.equal(empty.error, 'validation_failed');
      for (const field of ['name', 'category', 'message']) assert.ok(field in empty.fields, `${field} is named`);
    });

    it('reports blank fields and a missing contact together, as a form sends them', async () => {
      assertFields(await refused(newCase({ name: '', email: '', phone: '', message: ' ' })), {
        name: 'errors.name_required',
        email: 'errors.contact_required',
        message: 'errors.message_required',
      });
    });

    it('a body that is not JSON (invalid_json)', async () => {
      const before = await rowCounts(t.db);
      const res = await t.request().post('/api/v1/cases').set('Content-Type', 'application/json').send('{"name": "Sara", ').expect(400);
      assert.equal(res.body.error, 'invalid_json');
      assert.equal(typeof res.body.message, 'string');
      const scalar = await t.request().post('/api/v1/cases').set('Content-Type', 'application/json').send('"just text"').expect(400);
      assert.equal(scalar.body.error, 'invalid_json');
      assert.deepEqual(await rowCounts(t.db), before);
    });

    it('a body over the JSON limit (413)', async () => {
      const before = await rowCounts(t.db);
      const res = await t.request().post('/api/v1/cases').send(newCase({ message: 'a'.repeat(300 * 1024) })).expect(413);
      assert.equal(res.body.error, 'payload_too_large');
      assert.deepEqual(await rowCounts(t.db), before);
    });
  });
});
