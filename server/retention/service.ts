import { rm } from 'node:fs/promises';
import { toCommitted } from '../cases/change.js';
import type { CaseRow } from '../cases/store.js';
import { ConflictError, NotFoundError, ValidationError } from '../platform/errors.js';
import type { CaseEventBus } from '../platform/events.js';
import type { Logger } from '../platform/logger.js';
import { parseOrThrow } from '../platform/validation.js';
import { holdSchema, parseNewRule, ruleText, type RuleRow } from './rules.js';
import type { DueCase, RetentionStore, RunRow } from './store.js';

export type RunTrigger = RunRow['trigger'];

/** What a dry run shows: the cases that would go, and those a legal hold keeps. */
export interface RetentionPlan {
  now: Date;
  rules: (RuleRow & { text: string })[];
  going: (DueCase & { rule_text: string })[];
  held: (DueCase & { rule_text: string })[];
}

export interface RetentionRunResult {
  startedAt: Date;
  finishedAt: Date;
  /** Per active rule: how many cases this run removed under it. */
  perRule: { ruleId: number; text: string; count: number }[];
  removed: number;
  held: number;
}

const isUniqueViolation = (err: unknown) => (err as { code?: string } | null)?.code === '23505';

export function createRetentionService(deps: {
  store: RetentionStore;
  bus: CaseEventBus;
  logger: Logger;
  /** Where an attachment's stored file is (the attachment service's pathOf). */
  pathOf: (storageKey: string) => string;
}) {
  const { store, bus, logger, pathOf } = deps;

  const withText = (rules: RuleRow[]) => rules.map((r) => ({ ...r, text: ruleText(r) }));

  async function plan(now = new Date()): Promise<RetentionPlan> {
    const [rules, due] = await Promise.all([store.listRules({ activeOnly: true }), store.dueCases(now)]);
    const texts = new Map(withText(rules).map((r) => [r.id, r.text]));
    const rows = due.map((d) => ({ ...d, rule_text: texts.get(d.rule_id) ?? String(d.rule_id) }));
    return { now, rules: withText(rules), going: rows.filter((r) => !r.legal_hold), held: rows.filter((r) => r.legal_hold) };
  }

  return {
    listRules: async () => withText(await store.listRules()),
    listRuns: (limit = 50) => store.listRuns(limit),
    plan,

    async addRule(input: unknown, actor: { id: number } | null): Promise<RuleRow> {
      const rule = parseNewRule(input);
      const categoryId = rule.category ? await store.findCategoryId(rule.category) : null;
      const departmentId = rule.department ? await store.findDepartmentId(rule.department) : null;
      if (rule.category && categoryId === undefined) {
        throw new ValidationError([{ field: 'target', code: 'admin.retention.errors.unknown_category', message: `No topic named "${rule.category}"`, params: { slug: rule.category } }]);
      }
      if (rule.department && departmentId === undefined) {
        throw new ValidationError([{ field: 'target', code: 'admin.retention.errors.unknown_department', message: `No department named "${rule.department}"`, params: { slug: rule.department } }]);
      }
      try {
        const id = await store.insertRule({ category_id: categoryId ?? null, department_id: departmentId ?? null, keep_days: rule.days, description: rule.description, created_by: actor?.id ?? null });
        return (await store.findRule(id))!;
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        throw new ValidationError([
          { field: 'target', code: 'admin.retention.errors.duplicate', message: 'That topic or department already has an active rule: deactivate it first, then add the new one' },
        ]);
      }
    },

    async deactivateRule(id: number): Promise<void> {
      if (!(await store.deactivateRule(id))) {
        if (!(await store.findRule(id))) throw new NotFoundError('No such retention rule');
        throw new ConflictError('The rule is already inactive', 'rule_inactive');
      }
    },

    /**
     * Removes every case the active rules say may go, each in its own
     * transaction (a crash leaves each case either untouched or fully
     * removed), then records one run row per active rule, with the count it
     * removed (0 included). Cases are planned once at the start; each is
     * checked again under its lock, so a run beside another removes only
     * what the other has not.
     */
    async run(opts: { trigger: RunTrigger; now?: Date }): Promise<RetentionRunResult> {
      const startedAt = opts.now ?? new Date();
      const p = await plan(startedAt);
      const counts = new Map(p.rules.map((r) => [r.id, 0]));
      let removed = 0;
      for (const due of p.going) {
        const done = await store.removeCase(due.id, startedAt);
        if (!done) continue;
        removed++;
        counts.set(done.ruleId, (counts.get(done.ruleId) ?? 0) + 1);
        // After the commit: a file removed before it would be lost if the transaction rolled back.
        await Promise.all(done.storageKeys.map((k) => rm(pathOf(k), { force: true }).catch((err: unknown) => logger.warn({ err, caseId: done.caseId }, 'retention: a stored file could not be removed'))));
        bus.publish([toCommitted(done.event, done.reference)]);
      }
      const perRule = p.rules.map((r) => ({ ruleId: r.id, text: r.text, count: counts.get(r.id) ?? 0 }));
      await store.insertRuns(perRule.map((r) => ({ rule_id: r.ruleId, rule_text: r.text, trigger: opts.trigger, case_count: r.count, started_at: startedAt })));
      const result = { startedAt, finishedAt: new Date(), perRule, removed, held: p.held.length };
      logger.info({ trigger: opts.trigger, removed, held: result.held, rules: perRule.length }, 'retention run finished');
      return result;
    },

    /** A manager or admin places (hold) or lifts a legal hold, with a reason that the internal timeline keeps. */
    async setLegalHold(reference: string, actor: { id: number }, input: unknown, hold: boolean): Promise<CaseRow> {
      const { reason } = parseOrThrow(holdSchema, input ?? {});
      const written = await store.setLegalHold(reference, { hold, reason, actorId: actor.id }, (c) => {
        if (c.anonymized_at) throw new ConflictError('The case has already been removed by retention; there is nothing left to hold', 'case_anonymized');
        if (c.legal_hold === hold) throw new ConflictError(hold ? 'The case is already under a legal hold' : 'The case is not under a legal hold', 'legal_hold_unchanged');
      });
      if (!written) throw new NotFoundError('No such case');
      bus.publish([toCommitted(written.event, written.case.reference)]);
      return written.case;
    },
  };
}

export type RetentionService = ReturnType<typeof createRetentionService>;
