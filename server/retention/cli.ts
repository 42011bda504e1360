import { AppError, ValidationError } from '../platform/errors.js';
import { migrateLatest, pendingMigrations } from '../platform/migrate.js';
import { inCliWords, type CliCommand, type CliValues } from '../platform/cli-command.js';
import { MAX_KEEP_DAYS, parseNewRule } from './rules.js';
import type { RetentionPlan } from './service.js';

type Values = CliValues;

const day = (d: Date) => new Date(d).toISOString().slice(0, 10);

/** The rule options as the service takes them (checked before the database is opened). */
function ruleOptions(v: Values) {
  for (const name of ['category', 'department', 'days', 'description'] as const) {
    if (v[name] !== undefined && typeof v[name] !== 'string') throw new ValidationError([{ field: name, code: 'errors.invalid', message: `--${name} takes a value` }]);
  }
  if (v.days === undefined) throw new ValidationError([{ field: 'days', code: 'errors.required', message: `--days is required: whole days, 1 to ${MAX_KEEP_DAYS}` }]);
  return inCliWords(
    () => parseNewRule({ category: v.category, department: v.department, days: v.days, description: v.description }),
    (f) =>
      f.field === 'days'
        ? `whole days, 1 to ${MAX_KEEP_DAYS}; got "${String(v.days)}"`
        : f.field === 'description'
          ? 'at most 500 characters'
          : f.field === 'category' || f.field === 'department'
            ? `a short name (slug) such as "bygglov"; got "${String(v[f.field])}"`
            : 'give exactly one of --category SLUG and --department SLUG',
  );
}

export function describePlan(p: RetentionPlan): string {
  const line = (c: RetentionPlan['going'][number]) => `  ${c.reference}\t${c.category_slug}\tfinished ${day(c.finished_at)}\t${c.rule_text}`;
  const out = [`Dry run at ${p.now.toISOString()}: nothing is removed or recorded.`];
  if (!p.rules.length) {
    out.push('No active retention rules: nothing would be removed.');
    return out.join('\n');
  }
  out.push(`Active rules: ${p.rules.length}.`);
  out.push(p.going.length ? `Would remove ${p.going.length} case(s):` : 'Would remove no cases.');
  out.push(...p.going.map(line));
  if (p.held.length) {
    out.push(`Held by a legal hold, kept: ${p.held.length} case(s):`);
    out.push(...p.held.map((c) => `${line(c)}\tHELD`));
  }
  return out.join('\n');
}

/** `npm run cli -- retention:…`: list and add rules, and run retention (or see what a run would remove). */
export const retentionCommands: Record<string, CliCommand> = {
  'retention:rules': {
    usage: 'retention:rules              the retention rules (gallring), active first',
    options: {},
    async run(s) {
      await migrateLatest(s.db);
      const rules = await s.retention.listRules();
      if (!rules.length) return 'No retention rules: nothing is ever removed.';
      return rules.map((r) => `${r.id}\t${r.active ? 'active' : 'inactive'}\t${r.category_slug ? `category ${r.category_slug}` : `department ${r.department_slug}`}\t${r.keep_days} days\t${r.text}`).join('\n');
    },
  },
  'retention:rule:add': {
    usage:
      'retention:rule:add --category SLUG|--department SLUG --days N [--description T]\n' +
      '                               remove finished cases of that topic or department N days after they finished',
    options: { category: { type: 'string' }, department: { type: 'string' }, days: { type: 'string' }, description: { type: 'string' } },
    check: ruleOptions,
    async run(s, v) {
      await migrateLatest(s.db);
      const rule = await s.retention.addRule(ruleOptions(v), null);
      return `Added retention rule ${rule.id}: ${rule.category_slug ? `category ${rule.category_slug}` : `department ${rule.department_slug}`}, ${rule.keep_days} days.`;
    },
  },
  'retention:run': {
    usage:
      'retention:run [--dry-run]    remove what the active rules say may go (one record per rule);\n' +
      '                               --dry-run: list each case that would go (and each a legal hold keeps) and write nothing',
    options: { 'dry-run': { type: 'boolean' } },
    async run(s, v) {
      if (v['dry-run']) {
        // Not even a migration: a dry run reads and writes nothing.
        const pending = await pendingMigrations(s.db);
        if (pending.length) throw new AppError(`The database is not up to date (${pending.length} migration(s) pending): run \`npm run cli -- migrate\` first.`, 409, 'not_migrated');
        return describePlan(await s.retention.plan());
      }
      await migrateLatest(s.db);
      const r = await s.retention.run({ trigger: 'cli' });
      if (!r.perRule.length) return 'No active retention rules: nothing was removed (and no run recorded).';
      return [
        `Removed ${r.removed} case(s); ${r.held} kept by a legal hold.`,
        ...r.perRule.map((p) => `  ${p.count}\t${p.text}`),
      ].join('\n');
    },
  },
};
