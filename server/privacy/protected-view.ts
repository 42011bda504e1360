import type { CallbackRow } from '../callbacks/store.js';
import type { OutboxStatusRow } from '../mail/store.js';
import { translate } from '../platform/i18n.js';
import type { Accessor } from './access-log.js';
import { withoutContact, type ContactAccess, type ProtectedIdentity } from './protected-identity.js';

/** The protected resident's details, shown apart from the live-updated details panel (which never carries them). */
export interface ProtectedContact {
  name: string | null;
  email: string | null;
  phone: string | null;
  personnummer: string | null;
}

/**
 * The case page's view of its resident under protected identity: the case
 * for the templates (without the resident's details when protected), the
 * details themselves for a viewer allowed to see them (the showing logged),
 * and the callback number and undelivered mail hidden from anyone else.
 */
export async function protectedCaseView<C extends Record<string, unknown> & { id: number; reference: string }, B extends Pick<CallbackRow, 'phone'>>(
  identity: Pick<ProtectedIdentity, 'contactAccess'>,
  who: Accessor,
  page: { case: C; callback: B | undefined; undeliveredMail: OutboxStatusRow[] },
  lang: string,
): Promise<{ case: C; access: ContactAccess; contact: ProtectedContact | undefined; callback: (B & { phoneHidden?: boolean }) | undefined; undeliveredMail: OutboxStatusRow[] }> {
  const access = await identity.contactAccess(who, page.case, 'case_page');
  if (!access.protected) return { case: page.case, access, contact: undefined, callback: page.callback, undeliveredMail: page.undeliveredMail };
  const c = page.case;
  const contact = access.shown
    ? { name: str(c.resident_name), email: str(c.resident_email), phone: str(c.resident_phone), personnummer: str(c.personnummer) }
    : undefined;
  const hidden = translate(lang, 'agent.protected.label');
  return {
    case: withoutContact(c),
    access,
    contact,
    callback: page.callback && (access.shown ? page.callback : { ...page.callback, phone: '', phoneHidden: true }),
    // The address, and a failure report that may quote it.
    undeliveredMail: access.shown ? page.undeliveredMail : page.undeliveredMail.map((m) => ({ ...m, to_address: hidden, last_error: hidden })),
  };
}

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);
