import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Config } from '../config.js';

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  messageId: string;
  inReplyTo?: string | null;
  headers?: Record<string, string>;
}

export interface MailTransport {
  kind: 'smtp' | 'file';
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/**
 * SMTP_URL set: a real relay. Unset: each message is written as an .eml file
 * under data/outbox, which the demo lists on a page.
 */
export function createMailTransport(config: Pick<Config, 'mail'>): MailTransport {
  const toNodemailer = (m: OutgoingMail) => ({
    from: m.from,
    to: m.to,
    subject: m.subject,
    text: m.text,
    messageId: m.messageId,
    ...(m.inReplyTo ? { inReplyTo: m.inReplyTo, references: m.inReplyTo } : {}),
    // We never want an auto-reply to our own acknowledgements (RFC 3834).
    headers: { 'Auto-Submitted': 'auto-generated', ...(m.headers ?? {}) },
  });

  if (config.mail.smtpUrl) {
    const transport = nodemailer.createTransport(config.mail.smtpUrl);
    return {
      kind: 'smtp',
      async send(m) {
        await transport.sendMail(toNodemailer(m));
      },
      close: () => transport.close(),
    };
  }

  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const dir = config.mail.outboxDir;
  return {
    kind: 'file',
    async send(m) {
      const info = await transport.sendMail(toNodemailer(m));
      await mkdir(dir, { recursive: true });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const id = m.messageId.replace(/[^A-Za-z0-9]/g, '').slice(0, 24);
      await writeFile(path.join(dir, `${stamp}-${id}.eml`), info.message as Buffer);
    },
    close: () => transport.close(),
  };
}
