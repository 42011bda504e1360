import { strict as assert } from 'node:assert';
import type { IncomingMessage } from 'node:http';
import { eventBudget, sameOrigin } from '../../server/platform/realtime.js';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('realtime: origin check', () => {
  const publicUrl = 'https://kontakt.borlange.example';
  it('accepts our public origin, the host the request came to, and non-browser clients', () => {
    assert.equal(sameOrigin(req({ origin: publicUrl, host: 'internal:3000' }), publicUrl), true);
    assert.equal(sameOrigin(req({ origin: 'https://10.0.0.5:4000', host: '10.0.0.5:4000' }), publicUrl), true);
    assert.equal(sameOrigin(req({ origin: 'http://127.0.0.1:4000', host: '127.0.0.1:4000' }), 'http://localhost:3000'), true);
    assert.equal(sameOrigin(req({ host: '127.0.0.1:4000' }), publicUrl), true);
  });
  it("refuses another site's page, look-alike hosts and garbage", () => {
    for (const origin of ['https://evil.example', 'https://kontakt.borlange.example.evil.example', 'http://kontakt.borlange.example', 'null', 'not a url']) {
      assert.equal(sameOrigin(req({ origin, host: 'kontakt.borlange.example' }), publicUrl), false, origin);
    }
  });
});

describe('realtime: event budget', () => {
  it('allows the budget, refuses beyond it, and asks to disconnect a client that keeps going', () => {
    const b = eventBudget(5);
    const first = Array.from({ length: 5 }, () => b.take());
    assert.deepEqual(first, ['ok', 'ok', 'ok', 'ok', 'ok']);
    assert.equal(b.take(), 'refused');
    let outcome = 'refused';
    let n = 1;
    while (outcome === 'refused' && n < 100) {
      outcome = b.take();
      n++;
    }
    assert.equal(outcome, 'disconnect');
    assert.equal(n, 11, 'after twice the budget refused in a row');
  });
});
