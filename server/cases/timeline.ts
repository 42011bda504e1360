import { translate } from '../platform/i18n.js';
import type { TimelineRow } from './store.js';

/** How one case event reads in the timeline, in the reader's language. */
export function describeEvent(e: TimelineRow, lang: string): { label: string; kind: 'message' | 'reply' | 'note' | 'change'; body: string | null } {
  const p = e.payload ?? {};
  const actor = e.actor_type === 'resident' ? translate(lang, 'timeline.actor.resident') : (e.actor_name ?? translate(lang, 'timeline.actor.system'));
  const status = (v: unknown) => translate(lang, `status.${String(v)}`);
  const kind = e.message_kind === 'resident' ? 'message' : e.message_kind === 'reply' ? 'reply' : e.message_kind === 'note' ? 'note' : 'change';
  const vars: Record<string, unknown> = { actor };
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
  }
  const body = e.message_body ?? (e.type === 'case.forwarded' && typeof p.note === 'string' ? p.note : null);
  return { label: translate(lang, `timeline.${e.type}`, vars), kind, body };
}
