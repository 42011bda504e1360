import type { Knex } from 'knex';
import { runStatements } from '../server/platform/sql.js';

/**
 * Mail intake: every message received (SMTP or IMAP) is kept raw before it is
 * acknowledged, then processed into a case or quarantined, never dropped.
 * Also what threading needs: Message-IDs on messages, participants, links
 * between cases, failing addresses, and HTML and threading headers on
 * outgoing mail.
 */
export async function up(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    CREATE TABLE inbound_messages (
      id              bigserial PRIMARY KEY,
      source          text NOT NULL CHECK (source IN ('smtp', 'imap')),
      -- the intake address it was delivered to (SMTP RCPT TO, or the IMAP mailbox)
      recipient       text NOT NULL,
      envelope_from   text,
      -- the Message-ID header without angle brackets, when there is one
      message_id      text,
      raw             bytea NOT NULL,
      size_bytes      integer NOT NULL,
      sha256          text NOT NULL,
      status          text NOT NULL DEFAULT 'received'
                      CHECK (status IN ('received', 'processed', 'quarantined', 'discarded')),
      -- what processing did: created, threaded, new_linked, bounce, ignored_loop
      outcome         text,
      case_id         bigint REFERENCES cases(id),
      attempts        integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      last_error      text,
      received_at     timestamptz NOT NULL DEFAULT now(),
      processed_at    timestamptz,
      -- IMAP: where it was fetched from, so a restart never fetches it twice
      imap_mailbox    text,
      imap_uidvalidity bigint,
      imap_uid        bigint
    );
    CREATE UNIQUE INDEX inbound_messages_dedup_idx ON inbound_messages (message_id, lower(recipient)) WHERE message_id IS NOT NULL;
    CREATE UNIQUE INDEX inbound_messages_imap_idx ON inbound_messages (imap_mailbox, imap_uidvalidity, imap_uid) WHERE imap_uid IS NOT NULL;
    CREATE INDEX inbound_messages_due_idx ON inbound_messages (next_attempt_at) WHERE status = 'received';
    CREATE INDEX inbound_messages_quarantine_idx ON inbound_messages (received_at) WHERE status = 'quarantined';

    CREATE TABLE imap_mailbox_state (
      mailbox         text PRIMARY KEY,
      uidvalidity     bigint NOT NULL,
      last_uid        bigint NOT NULL DEFAULT 0,
      updated_at      timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE case_participants (
      case_id     bigint NOT NULL REFERENCES cases(id),
      email       text NOT NULL,
      added_at    timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (case_id, email)
    );

    ALTER TABLE cases ADD COLUMN linked_case_id bigint REFERENCES cases(id);

    ALTER TABLE messages ADD COLUMN body_html text;
    ALTER TABLE messages ADD COLUMN mail_message_id text;
    ALTER TABLE messages ADD COLUMN inbound_message_id bigint REFERENCES inbound_messages(id);
    CREATE INDEX messages_mail_message_id_idx ON messages (mail_message_id) WHERE mail_message_id IS NOT NULL;

    ALTER TABLE residents ADD COLUMN email_failing_at timestamptz;
    ALTER TABLE residents ADD COLUMN email_failure text;

    ALTER TABLE mail_outbox ADD COLUMN html_body text;
    ALTER TABLE mail_outbox ADD COLUMN references_header text;
    ALTER TABLE mail_outbox ADD COLUMN auto_submitted text;
    CREATE INDEX mail_outbox_ack_idx ON mail_outbox (lower(to_address), created_at) WHERE kind = 'acknowledgement';
  `,
  );
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(
    knex,
    `
    DROP INDEX mail_outbox_ack_idx;
    ALTER TABLE mail_outbox DROP COLUMN auto_submitted;
    ALTER TABLE mail_outbox DROP COLUMN references_header;
    ALTER TABLE mail_outbox DROP COLUMN html_body;
    ALTER TABLE residents DROP COLUMN email_failure;
    ALTER TABLE residents DROP COLUMN email_failing_at;
    DROP INDEX messages_mail_message_id_idx;
    ALTER TABLE messages DROP COLUMN inbound_message_id;
    ALTER TABLE messages DROP COLUMN mail_message_id;
    ALTER TABLE messages DROP COLUMN body_html;
    ALTER TABLE cases DROP COLUMN linked_case_id;
    DROP TABLE case_participants;
    DROP TABLE imap_mailbox_state;
    DROP TABLE inbound_messages;
  `,
  );
}
