import { z } from 'zod';
import type { CaseOpener } from '../cases/change.js';
import type { ReferenceAllocator } from '../cases/reference.js';
import { newResidentToken } from '../cases/service.js';
import { text } from '../cases/schemas.js';
import type { MailComposer } from '../mail/compose.js';
import type { OrganisationService } from '../organisation/service.js';
import { translate, type Language } from '../platform/i18n.js';
import { parseOrThrow } from '../platform/validation.js';

export const PAGE_MAX = 500;
export const DESCRIPTION_MAX = 5000;
/** The subject column takes 300 characters; a queue row shows far fewer. */
const SUBJECT_MAX = 200;

// Control characters other than tab and line breaks cannot be typed and PostgreSQL refuses NUL.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;
const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/** A path on this site ("/kontakt") or a whole web address, on one line. */
function isPageAddress(v: string): boolean {
  if (/\s/.test(v)) return false;
  if (v.startsWith('/')) return true;
  try {
    const url = new URL(v);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** The report form of the accessibility statement: which page, what went wrong, and an address for the answer if the resident wants one. */
export const accessibilityReportSchema = z.object({
  page: z.preprocess(
    blankToUndefined,
    text()
      .trim()
      .max(PAGE_MAX, 'errors.too_long')
      .refine(isPageAddress, { message: 'accessibility.report.errors.page_invalid', abort: true })
      .optional(),
  ),
  description: text('accessibility.report.errors.description_required')
    .transform((s) => s.replace(/\r\n?/g, '\n').replace(CONTROL, '').trim())
    .pipe(z.string().min(1, 'accessibility.report.errors.description_required').max(DESCRIPTION_MAX, 'errors.too_long')),
  email: z.preprocess(
    (v) => (typeof v === 'string' ? blankToUndefined(v.trim()) : v),
    z.email({ error: (i) => (typeof i.input === 'string' ? 'errors.email_invalid' : 'errors.invalid_type') }).max(254, 'errors.too_long').optional(),
  ),
});

const oneLine = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/**
 * A report of an accessibility problem (DOS-lagen asks for a way to report
 * one and to be answered) becomes a case in the normal queue, on the topic
 * mail intake uses for "other", so agents answer it like any contact.
 *
 * The e-mail address is optional: without it the case is opened for an
 * anonymous resident, as a phone contact without a number is (the cases
 * service's web intake needs an e-mail or a phone number), and the private
 * link on the receipt is how the resident reads the answer.
 */
export function createAccessibilityReports(deps: {
  open: CaseOpener;
  topics: Pick<OrganisationService, 'fallbackCategory'>;
  references: ReferenceAllocator;
  composer: MailComposer;
  /** The topic's short name (config.intake.category); 'ovrigt' when that one is gone. */
  category: string;
}) {
  const { open, topics, references, composer } = deps;

  return {
    async report(input: unknown, opts: { lang: Language }): Promise<{ reference: string; token: string }> {
      const v = parseOrThrow(accessibilityReportSchema, input);
      const category = await topics.fallbackCategory(deps.category);
      const language = opts.lang;
      // The subject labels the queue row for staff: Swedish. The message is the resident's, in their language.
      const subject = oneLine(translate('sv', 'accessibility.case.subject', { page: v.page ?? translate('sv', 'accessibility.case.no_page') }), SUBJECT_MAX);
      const body = `${translate(language, 'accessibility.case.page_line', { page: v.page ?? translate(language, 'accessibility.case.no_page') })}\n\n${v.description}`;
      const reference = await references.next();
      const token = newResidentToken();
      // As a mail without a display name: the address's local part names the resident.
      const name = v.email ? v.email.split('@')[0]!.slice(0, 200) : translate('sv', 'contacts.unnamed');
      const ack = v.email ? composer.acknowledgement({ id: 0, reference, subject, language, resident_token: token }, v.email, name) : undefined;
      await open(
        {
          reference,
          channel: 'web',
          categoryId: category.id,
          subject,
          language,
          token,
          body,
          payload: { channel: 'web', category: category.slug, subject, attachments: 0, form: 'accessibility' },
          ack,
          // The form asks for no name: a resident we know by this address keeps theirs.
          resident: { name, email: v.email ?? null, phone: null, nameIsGuess: true },
        },
        undefined,
      );
      return { reference, token };
    },
  };
}

export type AccessibilityReports = ReturnType<typeof createAccessibilityReports>;
