import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import { translate } from '../platform/i18n.js';
import type { Views } from '../platform/views.js';
import type { NewOutboxMail } from './store.js';

/** Header values never carry line breaks, whatever a subject contains (no header injection). */
export const oneLine = (s: string) => s.replace(/[\r\n\t]+/g, ' ').trim();

export function createMailComposer(deps: { views: Views; config: Pick<Config, 'publicUrl' | 'mail' | 'organisation'> }) {
  const { views, config } = deps;
  const domain = /@([^>\s]+)/.exec(config.mail.from)?.[1] ?? 'servicecenter.invalid';
  const newMessageId = () => `<sc.${Date.now().toString(36)}.${randomBytes(9).toString('base64url')}@${domain}>`;
  const statusUrl = (token: string) => `${config.publicUrl}/arende/${token}`;

  function build(template: string, lang: string, data: Record<string, unknown>) {
    return views.text(`emails/${template}`, { ...data, lang, organisation: config.organisation });
  }

  return {
    statusUrl,

    acknowledgement(c: { id: number; reference: string; subject: string; language: string; resident_token: string }, to: string, residentName: string): NewOutboxMail {
      return {
        case_id: c.id,
        kind: 'acknowledgement',
        to_address: to,
        subject: oneLine(`${translate(c.language, 'email.ack.subject', { reference: c.reference })}`),
        text_body: build('acknowledgement', c.language, { reference: c.reference, subject: c.subject, name: residentName, link: statusUrl(c.resident_token) }),
        message_id: newMessageId(),
      };
    },

    reply(c: { id: number; reference: string; subject: string; language: string; resident_token: string }, to: string, body: string, agentName: string): NewOutboxMail {
      return {
        case_id: c.id,
        kind: 'reply',
        to_address: to,
        subject: oneLine(translate(c.language, 'email.reply.subject', { reference: c.reference, subject: c.subject })),
        text_body: build('reply', c.language, { reference: c.reference, body, agentName, link: statusUrl(c.resident_token) }),
        message_id: newMessageId(),
      };
    },

    handover(c: { id: number; reference: string; subject: string }, to: string, departmentName: string, note: string, fromName: string): NewOutboxMail {
      return {
        case_id: c.id,
        kind: 'handover',
        to_address: to,
        subject: oneLine(translate('sv', 'email.handover.subject', { reference: c.reference, subject: c.subject })),
        text_body: build('handover', 'sv', { reference: c.reference, subject: c.subject, departmentName, note, fromName, link: `${config.publicUrl}/agent/cases/${c.reference}` }),
        message_id: newMessageId(),
      };
    },
  };
}

export type MailComposer = ReturnType<typeof createMailComposer>;
