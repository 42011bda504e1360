import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { claimDue } from '../platform/sql.js';
import { rawHeaderField } from './raw-headers.js';

export interface InboundRow {
  id: number;
  source: 'smtp' | 'imap';
  recipient: string;
  envelope_from: string | null;
  message_id: string | null;
  raw: Buffer;
  size_bytes: number;
  sha256: string;
  status: 'received' | 'processed' | 'quarantined' | 'discarded';
  outcome: string | null;
  case_id: number | null;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  received_at: Date;
  processed_at: Date | null;
  imap_mailbox: string | null;
  imap_uidvalidity: number | null;
  imap_uid: number | null;
}

export interface RawDelivery {
  source: 'smtp' | 'imap';
  recipient: string;
  envelopeFrom: string | null;
  raw: Buffer;
  imap?: { mailbox: string; uidvalidity: number; uid: number };
}

/** The Message-ID header of a raw message, without angle brackets (the header block only is read). */
export function messageIdOf(raw: Buffer): string | null {
  const value = rawHeaderField(raw, 'message-id');
  const id = value ? (/<([^<>\s]+)>/.exec(value)?.[1] ?? value.split(/\s/)[0]) : undefined;
  return id && id.length <= 900 ? id : null;
}

/** bytea arrives as a Buffer from pg and as a Uint8Array from the embedded database. */
function asBuffers<T extends { raw: Buffer | Uint8Array }>(row: T): T & { raw: Buffer } {
  return { ...row, raw: Buffer.isBuffer(row.raw) ? row.raw : Buffer.from(row.raw) };
}

/** SQL for received mail: kept raw first, processed later, quarantined rather than lost. */
export function createInboundStore(db: Knex) {
  return {
    /**
     * Stores a delivery durably. A second delivery of the same Message-ID to
     * the same address (or of the same IMAP UID) is recognised and not stored
     * twice: `duplicate` is then true.
     */
    async store(d: RawDelivery): Promise<{ id: number | null; duplicate: boolean }> {
      const messageId = messageIdOf(d.raw);
      const rows = (await db('inbound_messages')
        .insert({
          source: d.source,
          recipient: d.recipient.toLowerCase(),
          envelope_from: d.envelopeFrom,
          message_id: messageId,
          raw: d.raw,
          size_bytes: d.raw.length,
          sha256: createHash('sha256').update(d.raw).digest('hex'),
          imap_mailbox: d.imap?.mailbox ?? null,
          imap_uidvalidity: d.imap?.uidvalidity ?? null,
          imap_uid: d.imap?.uid ?? null,
        })
        .onConflict()
        .ignore()
        .returning('id')) as { id: number }[];
      return rows[0] ? { id: rows[0].id, duplicate: false } : { id: null, duplicate: true };
    },

    /** Due messages, leased to this processor (see claimDue in platform/sql.ts). */
    claimDue: async (limit: number, leaseMs: number): Promise<InboundRow[]> =>
      (await claimDue<InboundRow>(db, 'inbound_messages', 'received', limit, leaseMs)).map(asBuffers),

    async markProcessed(id: number, result: { outcome: string; caseId: number | null }, trx: Knex = db): Promise<void> {
      await trx('inbound_messages')
        .where({ id })
        .update({ status: 'processed', outcome: result.outcome, case_id: result.caseId, processed_at: trx.fn.now(), last_error: null });
    },

    async markFailedAttempt(row: Pick<InboundRow, 'id' | 'attempts'>, error: string, retryAt: Date, quarantine: boolean): Promise<void> {
      await db('inbound_messages')
        .where({ id: row.id })
        .update({ attempts: row.attempts + 1, last_error: error.slice(0, 4000), status: quarantine ? 'quarantined' : 'received', next_attempt_at: retryAt });
    },

    /** Quarantined mail, newest first, with the first 16 kB of each (enough for its headers). */
    listQuarantined: (limit = 200): Promise<(Omit<InboundRow, 'raw'> & { head: Buffer })[]> =>
      db('inbound_messages')
        .where({ status: 'quarantined' })
        .orderBy('received_at', 'desc')
        .limit(limit)
        .select('id', 'source', 'recipient', 'envelope_from', 'message_id', 'size_bytes', 'status', 'attempts', 'last_error', 'received_at', db.raw('substring(raw from 1 for 16384) AS head'))
        .then((rows: (Omit<InboundRow, 'raw'> & { head: Uint8Array })[]) => rows.map((r) => ({ ...r, head: Buffer.from(r.head) }))),

    findById: async (id: number) => {
      const row = await db<InboundRow>('inbound_messages').where({ id }).first();
      return row ? asBuffers(row) : undefined;
    },

    /** Sends a quarantined message through processing again, from a clean slate. */
    async requeue(id: number): Promise<boolean> {
      const n = await db('inbound_messages')
        .where({ id, status: 'quarantined' })
        .update({ status: 'received', attempts: 0, next_attempt_at: db.fn.now(), last_error: null });
      return n > 0;
    },

    /** An admin's decision that a quarantined message is not a case. The raw message is kept. */
    async discard(id: number): Promise<boolean> {
      const n = await db('inbound_messages').where({ id, status: 'quarantined' }).update({ status: 'discarded', processed_at: db.fn.now() });
      return n > 0;
    },

    async imapState(mailbox: string): Promise<{ uidvalidity: number; last_uid: number } | undefined> {
      return db('imap_mailbox_state').where({ mailbox }).first('uidvalidity', 'last_uid');
    },

    async saveImapState(mailbox: string, uidvalidity: number, lastUid: number): Promise<void> {
      await db('imap_mailbox_state')
        .insert({ mailbox, uidvalidity, last_uid: lastUid })
        .onConflict('mailbox')
        .merge({ uidvalidity, last_uid: lastUid, updated_at: db.fn.now() });
    },
  };
}

export type InboundStore = ReturnType<typeof createInboundStore>;
