import { strict as assert } from 'node:assert';
import type { Knex } from 'knex';
import type { AuthUser, Role } from '../../server/auth/roles.js';
import type { CaseRow } from '../../server/cases/store.js';
import { newCase, TEST_PASSWORD, type TestApp } from '../support/harness.js';

/** Shared helpers for the integration tests (not a test file itself). */

let n = 0;
const unique = () => `${Date.now().toString(36)}${++n}.${process.pid}`;

/** A new user of the role with an API token (as `token:create` makes one). */
export async function apiUser(t: TestApp, role: Role = 'agent', name?: string): Promise<{ user: AuthUser; token: string; auth: { Authorization: string } }> {
  const email = `api-${role}-${unique()}@test.example`;
  const user = await t.services.auth.createUser({ email, name: name ?? `API ${role} ${n}`, role, password: TEST_PASSWORD });
  const token = await t.services.auth.createApiToken(email, 'test');
  return { user, token, auth: { Authorization: `Bearer ${token}` } };
}

/** Creates a case through the public API and answers its reference and resident token. */
export async function createCase(t: TestApp, overrides: Record<string, unknown> = {}): Promise<{ reference: string; token: string; email: unknown }> {
  const body = newCase(overrides);
  const res = await t.request().post('/api/v1/cases').send(body).expect(201);
  const token = String(res.body.statusUrl).split('/arende/')[1];
  assert.ok(token, 'statusUrl has a token');
  return { reference: res.body.reference as string, token, email: body.email };
}

export async function caseRow(db: Knex, reference: string): Promise<CaseRow> {
  const row = await db<CaseRow>('cases').where({ reference }).first();
  assert.ok(row, `case ${reference} exists`);
  return row;
}

export async function countOf(db: Knex, table: string, where: Record<string, unknown> = {}): Promise<number> {
  const row = await db(table).where(where).count<{ count: string | number }[]>('* as count').first();
  return Number(row?.count ?? 0);
}

/** Everything that a refused change must leave alone: the case row and its event, message and mail counts. */
export async function caseSnapshot(db: Knex, reference: string) {
  const c = await caseRow(db, reference);
  return {
    case: c,
    events: await countOf(db, 'case_events', { case_id: c.id }),
    messages: await countOf(db, 'messages', { case_id: c.id }),
    mails: await countOf(db, 'mail_outbox', { case_id: c.id }),
  };
}
