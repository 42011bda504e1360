import { z } from 'zod';
import type { AuthUser } from '../auth/roles.js';
import type { CallbackService } from '../callbacks/service.js';
import type { CaseOpener } from '../cases/change.js';
import { recordForward, statusPatch } from '../cases/change.js';
import type { ReferenceAllocator } from '../cases/reference.js';
import { phoneSchema, slugSchema, text } from '../cases/schemas.js';
import { newResidentToken, subjectFrom } from '../cases/service.js';
import type { CaseRow } from '../cases/store.js';
import type { MailComposer } from '../mail/compose.js';
import type { MailStore } from '../mail/store.js';
import type { OrganisationService } from '../organisation/service.js';
import type { OrganisationStore } from '../organisation/store.js';
import { ValidationError, type FieldError } from '../platform/errors.js';
import { translate } from '../platform/i18n.js';
import { toFieldErrors } from '../platform/validation.js';

export const CONTACT_CHANNELS = ['phone', 'visit'] as const;
export const CONTACT_OUTCOMES = ['answered', 'forwarded', 'callback', 'case'] as const;
export type ContactOutcome = (typeof CONTACT_OUTCOMES)[number];

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/** A phone call or a visit at the desk, as the agent registers it. */
export const contactSchema = z
  .object({
    channel: z.enum(CONTACT_CHANNELS, 'errors.invalid_choice'),
    category: z.preprocess(blankToUndefined, text('errors.category_required').pipe(slugSchema)),
    summary: text('errors.summary_required').trim().min(1, 'errors.summary_required').max(4000, 'errors.too_long'),
    name: z.preprocess(blankToUndefined, text().trim().max(200, 'errors.too_long').optional()),
    phone: z.preprocess(blankToUndefined, phoneSchema.optional()),
    outcome: z.enum(CONTACT_OUTCOMES, 'errors.outcome_required'),
    department: z.preprocess(blankToUndefined, slugSchema.optional()),
    /** A callback's window: the start of one of the offered slots; empty means as soon as we are open. */
    slot: z.preprocess(blankToUndefined, text().trim().max(40, 'errors.slot_unavailable').optional()),
  })
  .meta({ id: 'Contact' });

export interface RegisteredContact {
  reference: string;
  outcome: ContactOutcome;
  status: CaseRow['status'];
}

/**
 * Quick registration: a call or a visit becomes a case in a few keystrokes,
 * in the same store and statistics as everything else. Answered directly:
 * resolved at once, at first contact. Forwarded: handed to a department
 * with the summary as the note. Callback: queued for its window. Case: kept
 * open with the agent.
 */
export function createContactService(deps: {
  open: CaseOpener;
  callbacks: CallbackService;
  topics: Pick<OrganisationService, 'activeCategory'>;
  organisation: Pick<OrganisationStore, 'findDepartmentBySlug'>;
  references: ReferenceAllocator;
  composer: MailComposer;
  mail: Pick<MailStore, 'threadFor'>;
}) {
  const { open, callbacks, topics, organisation, references, composer, mail } = deps;

  return {
    async register(actor: AuthUser, input: unknown, opts: { lang: string }): Promise<RegisteredContact> {
      const parsed = contactSchema.safeParse(input);
      const fields: FieldError[] = parsed.success ? [] : toFieldErrors(parsed.error);
      const v = parsed.success ? parsed.data : undefined;
      // The checks across fields run on what was given even when another field is wrong, so every problem is reported at once.
      const given = (input ?? {}) as Record<string, unknown>;
      const has = (name: string) => !fields.some((f) => f.field === name);
      const filled = (name: string) => typeof given[name] === 'string' && (given[name] as string).trim() !== '';
      const outcome = v?.outcome ?? (has('outcome') ? CONTACT_OUTCOMES.find((o) => o === given.outcome) : undefined);
      const slug = v?.category ?? (has('category') && filled('category') ? String(given.category).trim().toLowerCase() : undefined);
      const category = slug ? await topics.activeCategory(slug) : undefined;
      if (slug && !category) fields.push({ field: 'category', code: 'errors.category_unknown', message: translate('en', 'errors.category_unknown') });
      const departmentSlug = v?.department ?? (has('department') && filled('department') ? String(given.department).trim().toLowerCase() : undefined);
      const department = outcome === 'forwarded' && departmentSlug ? await organisation.findDepartmentBySlug(departmentSlug) : undefined;
      if (outcome === 'forwarded' && has('department') && (!department || !department.active)) {
        fields.push(
          departmentSlug
            ? { field: 'department', code: 'errors.department_unknown', message: `There is no department "${departmentSlug}"` }
            : { field: 'department', code: 'errors.department_required', message: 'Choose the department to forward to' },
        );
      }
      if (outcome === 'callback' && has('phone') && !filled('phone')) fields.push({ field: 'phone', code: 'errors.phone_required', message: 'A callback needs a phone number' });
      let window: { start: Date; end: Date } | undefined;
      if (outcome === 'callback' && has('slot')) {
        try {
          window = filled('slot') ? callbacks.slotStartingAt(String(given.slot).trim()) : callbacks.soonest();
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          fields.push(...err.fields);
        }
      }
      if (fields.length || !v || !category) throw new ValidationError(fields);

      const now = new Date();
      const reference = await references.next();
      const { case: c } = await open(
        {
          reference,
          channel: v.channel,
          categoryId: category.id,
          subject: subjectFrom(v.summary),
          // The caller's language is not known from a call or a visit (the agent's page language is not it): Swedish.
          language: 'sv',
          token: newResidentToken(),
          body: v.summary,
          payload: { channel: v.channel, category: category.slug, outcome: v.outcome, registeredBy: actor.name },
          ack: undefined,
          resident: { name: v.name ?? translate(opts.lang, 'contacts.unnamed'), phone: v.phone ?? null },
        },
        { id: actor.id, name: actor.name },
        async (tx) => {
          const c0 = tx.current;
          const mine = { assignee_id: actor.id };
          switch (v.outcome) {
            case 'answered':
              await tx.update({ ...statusPatch(c0, 'resolved', now), ...mine, first_response_at: now, resolved_at_first_contact: true });
              await tx.events([
                { type: 'assignment.changed', actorType: 'user', actorId: actor.id, payload: { from: null, to: actor.id, toName: actor.name } },
                { type: 'status.changed', actorType: 'user', actorId: actor.id, payload: { from: 'new', to: 'resolved', reason: 'answered_directly' } },
              ]);
              break;
            case 'forwarded':
              await tx.update(mine);
              await recordForward(tx, { composer, mail }, { department: department!, note: v.summary, actor });
              break;
            case 'callback':
              await callbacks.schedule(tx, { phone: v.phone!, window: window!, source: 'agent', actor });
              break;
            case 'case':
              await tx.update({ ...statusPatch(c0, 'open', now), ...mine });
              await tx.events([
                { type: 'assignment.changed', actorType: 'user', actorId: actor.id, payload: { from: null, to: actor.id, toName: actor.name } },
                { type: 'status.changed', actorType: 'user', actorId: actor.id, payload: { from: 'new', to: 'open' } },
              ]);
              break;
          }
        },
      );
      return { reference: c.reference, outcome: v.outcome, status: c.status };
    },
  };
}

export type ContactService = ReturnType<typeof createContactService>;
