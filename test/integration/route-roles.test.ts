import { strict as assert } from 'node:assert';
import { routeTable } from '../../server/app.js';
import { hasRole, ROLES, type Role } from '../../server/auth/roles.js';
import { rowCounts, startTestApp, type SignedIn, type TestApp } from '../support/harness.js';

/** A concrete URL for a route pattern: any parameter gets a plausible value. */
function urlFor(path: string): string {
  return path
    .replace(':reference', 'SC-2026-000001')
    .replace(/:(id|callbackId|userId)\b/g, '1')
    .replace(':category', 'bygglov')
    .replace(':slug', 'vad-kostar-bygglov')
    .replace(/:[A-Za-z]+/g, 'x');
}

/**
 * Every route in the route table that needs a role, tried by a signed-in user
 * of each lower role: all are refused with 403 before the handler runs, so
 * nothing is written. New routes are covered as they are added to the table.
 */
describe('roles: every route needing a role refuses the roles below it', () => {
  let t: TestApp;
  const signedIn = new Map<Role, SignedIn>();
  before(async () => {
    t = await startTestApp();
    for (const role of ROLES) signedIn.set(role, await t.loginAs(role));
  });
  after(() => t.close());

  it('the table has routes for each role above agent', () => {
    const needs = new Set(routeTable(t.services).map((r) => r.access));
    for (const role of ['agent', 'editor', 'manager', 'admin'] as const) assert.ok(needs.has(role), `some route needs ${role}`);
  });

  for (const role of ROLES) {
    it(`a signed-in ${role} gets 403 on every route that needs a higher role, and nothing is written`, async () => {
      const me = signedIn.get(role)!;
      const above = routeTable(t.services).filter((r) => r.access !== 'public' && r.access !== 'resident-link' && !hasRole(role, r.access));
      if (role === 'admin') {
        assert.deepEqual(above, [], 'an admin may use every route');
        return;
      }
      assert.ok(above.length > 0, `there are routes above ${role}`);
      const before = await rowCounts(t.db);
      for (const r of above) {
        const url = urlFor(r.path);
        const req = me.agent[r.method](url);
        const res = r.method === 'get' ? await req : await req.set('X-CSRF-Token', me.csrf).type('form').send({ _csrf: me.csrf });
        assert.equal(res.status, 403, `${role}: ${r.method.toUpperCase()} ${url} (needs ${r.access}) answered ${res.status}`);
      }
      assert.deepEqual(await rowCounts(t.db), before);
    });
  }
});
