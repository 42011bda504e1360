import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import { isLanguage, textDirection, translate, type Language } from '../platform/i18n.js';
import { mailbox } from '../platform/mail.js';
import type { Views } from '../platform/views.js';
import { maskPersonnummer } from '../privacy/personnummer.js';
import type { AutoSubmitted, NewOutboxMail, ThreadIds } from './store.js';

/** Header values never carry line breaks, whatever a subject or name contains (no header injection). */
export const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();

/** References names the thread's first mail and the latest ones, at most this many (RFC 5322 3.6.4 allows trimming). */
export const MAX_REFERENCES = 10;

/**
 * A Message-ID without its angle brackets, or undefined when it is not one a
 * header can carry: ids received in mail are the sender's text, so anything
 * with whitespace, line breaks, control characters or brackets inside is dropped.
 */
export function bareMessageId(id: unknown): string | undefined {
  if (typeof id !== 'string') return undefined;
  const s = id.trim().replace(/^<(.*)>$/s, '$1');
  return s.length > 0 && s.length <= 250 && /^[\x21-\x7e]+$/.test(s) && !/[<>]/.test(s) ? s : undefined;
}

export const angleMessageId = (bare: string) => `<${bare}>`;

/**
 * In-Reply-To and References for a mail in a thread: References oldest first,
 * the first mail of the thread and the parent always kept when it is trimmed.
 */
export function threadHeaders(thread: ThreadIds | undefined): { in_reply_to: string | null; references_header: string | null } {
  const ids: string[] = [];
  for (const id of thread?.ids ?? []) {
    const bare = bareMessageId(id);
    if (bare && !ids.includes(bare)) ids.push(bare);
  }
  const parent = bareMessageId(thread?.parent) ?? ids.at(-1);
  if (parent && !ids.includes(parent)) ids.push(parent);
  if (!parent) return { in_reply_to: null, references_header: null };
  let kept = ids;
  if (ids.length > MAX_REFERENCES) {
    const first = ids[0]!;
    const parentAt = ids.indexOf(parent);
    const tailSize = MAX_REFERENCES - 1;
    const tail = ids.slice(ids.length - tailSize);
    kept = parentAt === 0 || tail.includes(parent) ? [first, ...tail] : [first, parent, ...ids.slice(ids.length - tailSize + 1)];
  }
  return { in_reply_to: angleMessageId(parent), references_header: kept.map(angleMessageId).join(' ') };
}

type MailLanguage = Language;
/** The languages the mail texts are written in (every resident language); Swedish for any other. */
export const mailLanguage = (lang: string): MailLanguage => (isLanguage(lang) ? lang : 'sv');

/** A case number or subject inside a right-to-left subject line, kept in its own direction (Unicode isolates). */
const isolated = (lang: MailLanguage, value: string) => (textDirection(lang) === 'rtl' ? `\u2068${value}\u2069` : value);

interface CaseForMail {
  id: number;
  reference: string;
  subject: string;
  language: string;
  resident_token: string;
}

/**
 * Builds outgoing mails from the templates in views/emails: for each kind a
 * plain-text part (`<kind>.text.hbs`, nothing escaped) and an HTML part
 * (`<kind>.html.hbs` inside `layout.html.hbs`, everything escaped), in the
 * resident's language, with threading headers and Auto-Submitted as RFC 3834 asks.
 * Mail is a notification, not the case view: every outside text it quotes (a
 * subject, a name, a message, a note) and its Subject header have each
 * personnummer and samordningsnummer masked; the full text is behind the link.
 */
export function createMailComposer(deps: { views: Views; config: Pick<Config, 'publicUrl' | 'mail' | 'organisation'> }) {
  const { views, config } = deps;
  // The domain of the sender's address (not of whatever its display name contains).
  const domain = /@([A-Za-z0-9.-]+)$/.exec(mailbox(config.mail.from).address)?.[1] ?? 'servicecenter.invalid';
  const newMessageId = () => `<sc.${Date.now().toString(36)}.${randomBytes(9).toString('base64url')}@${domain}>`;
  const statusUrl = (token: string) => `${config.publicUrl}/arende/${token}`;

  function build(
    kind: 'acknowledgement' | 'reply' | 'handover' | 'survey',
    to: string,
    opts: { caseId: number | null; lang: MailLanguage; subject: string; data: Record<string, unknown>; autoSubmitted: AutoSubmitted | null; thread: ThreadIds | undefined },
  ): NewOutboxMail {
    // E-mail is not a safe channel: a personnummer in a subject line goes masked (the texts are masked by each kind below).
    const subject = oneLine(maskPersonnummer(opts.subject));
    const ctx = { ...opts.data, lang: opts.lang, dir: textDirection(opts.lang), organisation: config.organisation };
    const content = views.template(`emails/${kind}.html`)(ctx);
    return {
      case_id: opts.caseId,
      kind,
      to_address: oneLine(to),
      subject,
      text_body: views.text(`emails/${kind}.text`, ctx),
      html_body: views.template('emails/layout.html')({ lang: opts.lang, dir: textDirection(opts.lang), title: subject, content }),
      message_id: newMessageId(),
      ...threadHeaders(opts.thread),
      auto_submitted: opts.autoSubmitted,
    };
  }

  return {
    statusUrl,

    /** Sent automatically when a case is created: auto-replied. `thread`: the resident's mail it answers, if it came by mail. */
    /** The receipt of a new case; with `callback`, it also says when we will call. */
    acknowledgement(c: CaseForMail, to: string, residentName: string, thread?: ThreadIds, callback?: { phone: string; window: { start: Date; end: Date } }): NewOutboxMail {
      const lang = mailLanguage(c.language);
      return build('acknowledgement', to, {
        caseId: c.id,
        lang,
        subject: translate(lang, 'email.ack.subject', { reference: isolated(lang, c.reference) }),
        data: { reference: c.reference, subject: maskPersonnummer(c.subject), name: maskPersonnummer(residentName), link: statusUrl(c.resident_token), callback },
        autoSubmitted: 'auto-replied',
        thread,
      });
    },

    /** An agent's answer: a person wrote it, so no Auto-Submitted. */
    reply(c: CaseForMail, to: string, body: string, agentName: string, thread?: ThreadIds): NewOutboxMail {
      const lang = mailLanguage(c.language);
      return build('reply', to, {
        caseId: c.id,
        lang,
        subject: translate(lang, 'email.reply.subject', { reference: isolated(lang, c.reference), subject: isolated(lang, c.subject) }),
        data: { reference: c.reference, body: maskPersonnummer(body), agentName, link: statusUrl(c.resident_token) },
        autoSubmitted: null,
        thread,
      });
    },

    /** The service survey after a case is resolved: sent by the system, not in answer to a mail, so auto-generated and not threaded. */
    survey(c: Pick<CaseForMail, 'id' | 'reference' | 'language'>, to: string, link: string, validDays: number): NewOutboxMail {
      const lang = mailLanguage(c.language);
      return build('survey', to, {
        caseId: c.id,
        lang,
        subject: translate(lang, 'survey.email.subject', { reference: isolated(lang, c.reference) }),
        data: { reference: c.reference, link, days: validDays },
        autoSubmitted: 'auto-generated',
        thread: undefined,
      });
    },

    /** The notice to a department that a case was handed to it: a system notification, auto-generated. In Swedish, for staff. */
    handover(c: { id: number; reference: string; subject: string }, to: string, departmentName: string, note: string, fromName: string, thread?: ThreadIds): NewOutboxMail {
      return build('handover', to, {
        caseId: c.id,
        lang: 'sv',
        subject: translate('sv', 'email.handover.subject', { reference: c.reference, subject: c.subject }),
        data: { reference: c.reference, subject: maskPersonnummer(c.subject), departmentName, note: maskPersonnummer(note), fromName, link: `${config.publicUrl}/agent/cases/${c.reference}` },
        autoSubmitted: 'auto-generated',
        thread,
      });
    },
  };
}

export type MailComposer = ReturnType<typeof createMailComposer>;
