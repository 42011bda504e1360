import { strict as assert } from 'node:assert';
import { sign } from '../../server/telephony/signature.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { connectLive, cookieHeader, staffSocket, waitUntil } from '../support/live-client.js';
import { createCase } from './helpers.js';

const SECRET = 'telephony-live-secret-0123456789-abcdefgh';

interface CallerCard {
  callId: string;
  caller: string;
  html: string;
}

describe('telephony: the caller on the answering agent’s dashboard', function () {
  this.timeout(30_000);
  let t: TestApp;
  let baseUrl: string;

  before(async () => {
    t = await startTestApp({ config: { telephony: { secret: SECRET, maxSkewSeconds: 300 } } });
    baseUrl = await t.listen();
  });
  after(() => t.close());

  async function send(body: unknown) {
    const raw = JSON.stringify(body);
    const ts = Math.floor(Date.now() / 1000);
    const res = await t
      .request()
      .post('/api/v1/telephony/events')
      .set('Content-Type', 'application/json')
      .set('X-Telephony-Timestamp', String(ts))
      .set('X-Telephony-Signature', sign(SECRET, ts, raw))
      .send(raw)
      .expect(200);
    return res.body as { accepted: number; duplicates: number };
  }

  /** An agent on the dashboard with a live socket, collecting the caller cards it is sent. */
  async function dashboard(name: string, extension: string) {
    const s = await staffSocket(t, baseUrl, 'agent', name);
    await t.services.auth.setPhoneExtension(s.user.id, extension);
    const cards: CallerCard[] = [];
    s.client.socket.on('caller', (c: CallerCard) => cards.push(c));
    const ack = await s.client.request('subscribe', { since: await t.services.live.cursor(), queue: true });
    assert.ok(ack.ok, JSON.stringify(ack));
    return { ...s, cards };
  }

  it('shows the caller’s earlier cases and callbacks to the agent who answered, and to nobody else', async () => {
    const a = await dashboard('Agent Anna', '3101');
    const b = await dashboard('Agent Bertil', '3102');
    try {
      const page = await a.agent.get('/agent').expect(200);
      assert.match(page.text, /id="caller-panel"/, 'the dashboard has the caller panel');
      assert.match(page.text, /id="caller-cards" aria-live="polite"/);

      // An earlier case from the number, written another way than the platform writes it.
      const earlier = await createCase(t, { phone: '070-555 12 34', subject: 'Fråga om sophämtning' });
      // And a missed call from it earlier today, which left a callback.
      await send({
        events: [
          { id: 'live-missed:o', type: 'call.offered', callId: 'live-missed', at: new Date(Date.now() - 7200_000).toISOString(), caller: '+46705551234', queue: 'vaxel' },
          { id: 'live-missed:e', type: 'call.ended', callId: 'live-missed', at: new Date(Date.now() - 7100_000).toISOString(), outcome: 'abandoned' },
        ],
      });
      const callback = await t.db('callbacks as cb').join('cases as c', 'c.id', 'cb.case_id').where('cb.call_id', 'live-missed').first('c.reference');
      assert.ok(callback, 'the missed call left a callback');

      const now = Date.now();
      await send({ id: 'live-1:o', type: 'call.offered', callId: 'live-1', at: new Date(now - 40_000).toISOString(), caller: '0705551234', queue: 'vaxel' });
      assert.equal(a.cards.length + b.cards.length, 0, 'nothing before the call is answered');
      await send({ id: 'live-1:a', type: 'call.answered', callId: 'live-1', at: new Date(now - 5_000).toISOString(), extension: '3101' });

      await waitUntil(() => a.cards.length > 0, 'the caller card on A’s dashboard');
      const card = a.cards[0]!;
      assert.equal(card.callId, 'live-1');
      assert.equal(card.caller, '0705551234');
      assert.match(card.html, /^\s*<article class="caller-card"/);
      assert.ok(card.html.includes('Samtal från 0705551234'));
      assert.ok(card.html.includes(`<a href="/agent/cases/${earlier.reference}">${earlier.reference}</a>`), 'the earlier case, linked');
      assert.ok(card.html.includes('Fråga om sophämtning'));
      assert.ok(card.html.includes(callback.reference), 'the callback');
      assert.ok(card.html.includes('Återuppringningar'));
      assert.ok(!card.html.includes('Inga tidigare kontakter'));

      // The same answer reported again changes nothing and shows nothing again.
      const dup = await send({ id: 'live-1:a', type: 'call.answered', callId: 'live-1', at: new Date(now - 5_000).toISOString(), extension: '3101' });
      assert.deepEqual(dup, { accepted: 0, duplicates: 1, callbacks: 0 });

      // B answers a call of their own: B's socket gets that card, and only that one. Had A's card gone to B,
      // it would have come first on the same connection.
      await send({
        events: [
          { id: 'live-2:o', type: 'call.offered', callId: 'live-2', at: new Date(now - 20_000).toISOString(), caller: '+46 70 000 00 01' },
          { id: 'live-2:a', type: 'call.answered', callId: 'live-2', at: new Date(now - 1_000).toISOString(), agent: b.user.email },
        ],
      });
      await waitUntil(() => b.cards.length > 0, 'B’s own caller card');
      assert.deepEqual(
        b.cards.map((c) => c.callId),
        ['live-2'],
      );
      assert.ok(b.cards[0]!.html.includes('Inga tidigare kontakter från det här numret.'), 'a first-time caller');
      assert.ok(!b.cards[0]!.html.includes(earlier.reference));
      assert.deepEqual(
        a.cards.map((c) => c.callId),
        ['live-1'],
        'A got one card: none for the duplicate, none for B’s call',
      );
    } finally {
      a.client.close();
      b.client.close();
    }
  });

  it('renders the card in the language of the agent’s page', async () => {
    const s = await staffSocket(t, baseUrl, 'agent', 'Agent English');
    try {
      await s.agent.get('/agent?lang=en').expect(200);
      s.client.close();
      // Reconnect with the language cookie the page set.
      const client = await connectLive(baseUrl, { cookie: cookieHeader(s.agent as never, baseUrl) });
      try {
        await t.services.auth.setPhoneExtension(s.user.id, '3199');
        const cards: CallerCard[] = [];
        client.socket.on('caller', (c: CallerCard) => cards.push(c));
        assert.ok((await client.request('subscribe', { since: await t.services.live.cursor(), queue: true })).ok);
        await send({ id: 'live-en:a', type: 'call.answered', callId: 'live-en', at: new Date().toISOString(), extension: '3199' });
        await waitUntil(() => cards.length > 0, 'the card');
        assert.ok(cards[0]!.html.includes('Call from a hidden number'), cards[0]!.html);
        assert.ok(cards[0]!.html.includes('The number is hidden'));
      } finally {
        client.close();
      }
    } finally {
      s.client.close();
    }
  });
});
