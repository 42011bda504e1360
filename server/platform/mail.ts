import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Config } from '../config.js';

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  /** The HTML alternative: with it the mail is multipart/alternative. */
  html?: string | null;
  messageId: string;
  inReplyTo?: string | null;
  /** Space-separated Message-IDs, oldest first. */
  references?: string | null;
  /** Set on automatic mail only (RFC 3834); a mail a person wrote has none. */
  autoSubmitted?: 'auto-replied' | 'auto-generated' | null;
  headers?: Record<string, string>;
}

export interface MailTransport {
  kind: 'smtp' | 'file';
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/** Nothing that goes into a header keeps a line break or another control character. */
const headerText = (s: string) => s.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();

/**
 * "Name <address>" (as MAIL_FROM is written) or a bare address, as an address
 * object: the name is then encoded by nodemailer as a display name (quoted or
 * RFC 2047), never parsed again, so a name cannot add an address or a header.
 */
export function mailbox(value: string): { name: string; address: string } {
  const m = /^\s*(.*?)\s*<([^<>]*)>\s*$/s.exec(value);
  const name = headerText(m ? m[1]!.replace(/^"(.*)"$/s, '$1') : '');
  const address = (m ? m[2]! : value).replace(/[\s\u0000-\u001f\u007f<>,;]+/g, '');
  return { name, address };
}

/** What nodemailer is given: addresses as objects, every header value on one line. */
export function toNodemailer(m: OutgoingMail) {
  const automatic = m.autoSubmitted
    ? {
        'Auto-Submitted': m.autoSubmitted,
        // Exchange and Outlook send no out-of-office or other auto-reply to this.
        'X-Auto-Response-Suppress': 'All',
      }
    : {};
  const extra = Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [headerText(k).replace(/[\s:]/g, ''), headerText(v)]));
  const references = m.references ? headerText(m.references) : m.inReplyTo ? headerText(m.inReplyTo) : undefined;
  return {
    from: mailbox(m.from),
    to: mailbox(m.to),
    subject: headerText(m.subject),
    text: m.text,
    ...(m.html ? { html: m.html } : {}),
    messageId: headerText(m.messageId),
    ...(m.inReplyTo ? { inReplyTo: headerText(m.inReplyTo) } : {}),
    ...(references ? { references } : {}),
    headers: { ...extra, ...automatic },
  };
}

/**
 * SMTP_URL set: a real relay. Unset: each message is written as an .eml file
 * under data/outbox, which the demo lists on a page.
 */
export function createMailTransport(config: Pick<Config, 'mail'>): MailTransport {
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
