import type { Config } from '../config.js';
import type { Logger } from '../platform/logger.js';
import { createPollingLoop } from '../platform/polling-loop.js';
import type { MailTransport } from '../platform/mail.js';
import type { MailStore, OutboxRow } from './store.js';

/**
 * Sends what the outbox holds. Woken right after a commit that queued mail,
 * and on a slow timer for retries; a mail that keeps failing is marked failed
 * after MAIL_MAX_ATTEMPTS with its last error kept.
 */
export function createMailWorker(deps: { store: MailStore; transport: MailTransport; config: Pick<Config, 'mail'>; logger: Logger }) {
  const { store, transport, config, logger } = deps;

  const retryDelayMs = (attempts: number) => Math.min(60 * 60_000, 30_000 * 2 ** (attempts - 1));

  /** Long enough for any relay to answer; a mail claimed by a crashed worker waits this long. */
  const LEASE_MS = 5 * 60_000;
  const BATCH = 20;

  async function sendOne(row: OutboxRow): Promise<void> {
    try {
      await transport.send({
        from: config.mail.from,
        to: row.to_address,
        subject: row.subject,
        text: row.text_body,
        html: row.html_body,
        messageId: row.message_id,
        inReplyTo: row.in_reply_to,
        references: row.references_header,
        autoSubmitted: row.auto_submitted,
      });
    } catch (err) {
      const attempts = row.attempts + 1;
      const giveUp = attempts >= config.mail.maxAttempts;
      if (giveUp) logger.error({ err, mailId: row.id, to: row.to_address }, 'mail given up after the last attempt');
      else logger.warn({ err, mailId: row.id, attempts }, 'mail not sent; will retry');
      await store.markFailedAttempt(row, String((err as Error)?.message ?? err), new Date(Date.now() + retryDelayMs(attempts)), giveUp);
      return;
    }
    await store.markSent(row);
  }

  return createPollingLoop({
    name: 'mail outbox',
    pollMs: config.mail.pollMs,
    logger,
    run: async (isStopped) => {
      let rows: OutboxRow[];
      do {
        rows = await store.claimDue(BATCH, LEASE_MS);
        for (const row of rows) await sendOne(row);
      } while (rows.length === BATCH && !isStopped());
    },
  });
}

export type MailWorker = ReturnType<typeof createMailWorker>;
