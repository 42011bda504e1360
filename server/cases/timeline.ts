import { sanitizeMailHtml, splitQuoted } from '../intake/mail-content.js';
import { translate } from '../platform/i18n.js';
import { formatDateTime, formatWindow } from '../platform/views.js';
import type { TimelineRow } from './store.js';

/** How one case event reads in the timeline, in the reader's language. */
export interface TimelineEntry {
  label: string;
  kind: 'message' | 'reply' | 'note' | 'change';
  body: string | null;
  /** The quoted history of a mail reply, shown collapsed. */
  quoted: string | null;
  /** A mail's HTML, sanitized again on the way out; remote images only with the agent's consent. */
  html: string | null;
  hasRemoteImages: boolean;
}

/** Remote images in stored mail HTML wait in data-remote-src until an agent asks for them. */
function mailHtml(stored: string | null, allowRemoteImages: boolean): { html: string | null; hasRemoteImages: boolean } {
  return stored ? sanitizeMailHtml(stored, { allowRemoteImages }) : { html: null, hasRemoteImages: false };
}

/**
 * `hideContact`: the resident has protected identity and the reader may not
 * see their contact details, so a number an event names is left out.
 */
export function describeEvent(e: TimelineRow, lang: string, opts: { remoteImages?: boolean; hideContact?: boolean } = {}): TimelineEntry {
  const p = e.payload ?? {};
  const actor = e.actor_type === 'resident' ? translate(lang, 'timeline.actor.resident') : (e.actor_name ?? translate(lang, 'timeline.actor.system'));
  const status = (v: unknown) => translate(lang, `status.${String(v)}`);
  const kind = e.message_kind === 'resident' ? 'message' : e.message_kind === 'reply' ? 'reply' : e.message_kind === 'note' ? 'note' : 'change';
  const vars: Record<string, unknown> = { actor };
  let key = `timeline.${e.type}`;
  const result = (v: unknown) => translate(lang, `callbacks.result.${String(v)}`);
  switch (e.type) {
    case 'status.changed':
      Object.assign(vars, { from: status(p.from), to: status(p.to) });
      break;
    case 'assignment.changed':
      Object.assign(vars, { to: p.toName ?? translate(lang, 'timeline.nobody') });
      break;
    case 'case.forwarded':
      Object.assign(vars, { department: p.departmentName ?? '' });
      break;
    case 'case.created':
      Object.assign(vars, { channel: translate(lang, `channel.${String(p.channel ?? 'web')}`) });
      break;
    case 'callback.requested':
      Object.assign(vars, {
        phone: opts.hideContact ? translate(lang, 'agent.protected.label') : (p.phone ?? ''),
        window: formatWindow(p.windowStart, p.windowEnd, lang),
        source: translate(lang, `callbacks.source.${String(p.source ?? 'web')}`),
      });
      break;
    case 'callback.attempted':
      Object.assign(vars, { result: result(p.result), attempt: p.attempt ?? '', of: p.of ?? '' });
      if (p.nextAttemptAt) {
        key = 'timeline.callback.attempted_next';
        vars.next = formatDateTime(p.nextAttemptAt, lang);
      }
      break;
    case 'language.changed':
      Object.assign(vars, { language: translate(lang, `language_name.${String(p.to)}`) });
      break;
    case 'callback.failed':
      Object.assign(vars, { attempts: p.attempts ?? '', result: result(p.result) });
      break;
  }
  const text =
    e.message_body ??
    ((e.type === 'case.forwarded' || e.type === 'callback.attempted') && typeof p.note === 'string' && p.note ? p.note : null) ??
    // A legal hold's reason (server/retention), shown on the internal timeline.
    (typeof p.holdReason === 'string' && p.holdReason ? p.holdReason : null);
  const fromMail = e.message_channel === 'email' && e.message_kind === 'resident';
  const split = fromMail && text ? splitQuoted(text) : { body: text, quoted: null };
  const { html, hasRemoteImages } = fromMail ? mailHtml(e.message_html, opts.remoteImages ?? false) : { html: null, hasRemoteImages: false };
  return { label: translate(lang, key, vars), kind, body: split.body, quoted: split.quoted, html, hasRemoteImages };
}
