import { DateTime } from 'luxon';
import { CHANNELS } from '../cases/lifecycle.js';
import { translate } from '../platform/i18n.js';
import type { Report, Share } from './report.js';

/**
 * The report as the tables a reader sees, in their language: the page
 * renders these and the CSV export writes the very same cells, so the two
 * cannot disagree.
 */
export interface ReportTable {
  id: TableId;
  title: string;
  /** A sentence under the title: how the figures are counted. */
  note?: string;
  columns: { label: string; numeric: boolean }[];
  /** The first cell of each row is its header. */
  rows: string[][];
  /** CSS classes per cell (the hour-of-week table shades its cells by count). */
  classes?: string[][];
}

export const TABLE_IDS = ['volumes', 'hour-of-week', 'times', 'kkik', 'callbacks', 'survey', 'backlog', 'faq', 'agents', 'departments'] as const;
export type TableId = (typeof TABLE_IDS)[number];

const locale = (lang: string) => (lang === 'en' ? 'en-GB' : 'sv-SE');

export function formatters(lang: string) {
  const int = new Intl.NumberFormat(locale(lang), { maximumFractionDigits: 0 });
  const dec = new Intl.NumberFormat(locale(lang), { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const pct = new Intl.NumberFormat(locale(lang), { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const dash = '–';
  return {
    int: (n: number) => int.format(n),
    hours: (h: number | null) => (h === null ? dash : dec.format(h)),
    decimal: (n: number | null) => (n === null ? dash : dec.format(n)),
    percent: (s: number | null) => (s === null ? dash : pct.format(s)),
  };
}

/** A period's label: the date, "v. 47 2026" / "week 47 2026", or the month. */
export function periodLabel(period: string, per: Report['volumes']['per'], lang: string): string {
  if (per === 'day') return period;
  if (per === 'week') {
    const d = DateTime.fromISO(period, { zone: 'UTC' });
    return translate(lang, 'stats.report.week_label', { week: String(d.weekNumber), year: String(d.weekYear), from: period });
  }
  return DateTime.fromISO(`${period}-01`, { zone: 'UTC' }).setLocale(locale(lang)).toFormat('LLLL yyyy');
}

export function reportTables(r: Report, lang: string, opts: { manager: boolean }): ReportTable[] {
  const t = (key: string, vars: Record<string, unknown> = {}) => translate(lang, `stats.report.${key}`, vars);
  const f = formatters(lang);
  const shareRow = (label: string, s: Share) => [label, f.percent(s.share), f.int(s.count), f.int(s.of)];
  const tables: ReportTable[] = [];

  tables.push({
    id: 'volumes',
    title: t(`volumes.title_${r.volumes.per}`),
    columns: [{ label: t(`volumes.period_${r.volumes.per}`), numeric: false }, { label: t('volumes.total'), numeric: true }, ...CHANNELS.map((c) => ({ label: translate(lang, `channel.${c}`), numeric: true }))],
    rows: [
      ...r.volumes.rows.map((row) => [periodLabel(row.period, r.volumes.per, lang), f.int(row.total), ...CHANNELS.map((c) => f.int(row.byChannel[c]))]),
      [t('volumes.sum'), f.int(r.volumes.total), ...CHANNELS.map((c) => f.int(r.volumes.rows.reduce((n, row) => n + row.byChannel[c], 0)))],
    ],
  });

  const busiest = Math.max(0, ...r.hourOfWeek.flat());
  const weekdays = [1, 2, 3, 4, 5, 6, 7].map((d) => DateTime.fromObject({ weekday: d as 1 }).setLocale(locale(lang)).toFormat('ccc'));
  tables.push({
    id: 'hour-of-week',
    title: t('heatmap.title'),
    note: t('heatmap.note'),
    columns: [{ label: t('heatmap.hour'), numeric: false }, ...weekdays.map((d) => ({ label: d, numeric: true }))],
    rows: Array.from({ length: 24 }, (_, h) => [`${String(h).padStart(2, '0')}–${String(h + 1).padStart(2, '0')}`, ...r.hourOfWeek.map((day) => f.int(day[h]!))]),
    classes: Array.from({ length: 24 }, (_, h) => ['', ...r.hourOfWeek.map((day) => `heat-${heatLevel(day[h]!, busiest)}`)]),
  });

  tables.push({
    id: 'times',
    title: t('times.title'),
    note: t('times.note'),
    columns: [t('times.measure'), t('times.count'), t('times.median'), t('times.p90')].map((label, i) => ({ label, numeric: i > 0 })),
    rows: [
      [t('times.first_response'), f.int(r.firstResponse.answered), f.hours(r.firstResponse.medianHours), f.hours(r.firstResponse.p90Hours)],
      [t('times.resolution'), f.int(r.resolution.resolved), f.hours(r.resolution.medianHours), f.hours(r.resolution.p90Hours)],
    ],
  });

  const k = r.kkik;
  const kkikRows = [
    shareRow(t('kkik.written_1'), k.writtenWithin1Day),
    shareRow(t('kkik.written_2'), k.writtenWithin2Days),
    shareRow(t('kkik.phone_direct'), k.phoneResolvedDirectly),
  ];
  if (k.calls) {
    kkikRows.push(
      shareRow(t('kkik.calls_60'), k.calls.answeredWithin60s),
      shareRow(t('kkik.abandoned'), k.calls.abandoned),
      shareRow(t('kkik.service_level', { seconds: String(k.calls.serviceLevel.targetSeconds), goal: f.percent(k.calls.serviceLevel.goal) }), k.calls.serviceLevel),
      [t('kkik.asa'), f.decimal(k.calls.averageSpeedOfAnswerSeconds), f.int(k.calls.answered), f.int(k.calls.offered)],
    );
  }
  tables.push({
    id: 'kkik',
    title: t('kkik.title'),
    note: k.calls ? t('kkik.note') : `${t('kkik.note')} ${t('kkik.no_calls')}`,
    columns: [t('kkik.measure'), t('kkik.share'), t('kkik.count'), t('kkik.of')].map((label, i) => ({ label, numeric: i > 0 })),
    rows: kkikRows,
  });

  tables.push({
    id: 'callbacks',
    title: t('callbacks.title'),
    note: t('callbacks.note'),
    columns: [t('kkik.measure'), t('kkik.share'), t('kkik.count'), t('kkik.of')].map((label, i) => ({ label, numeric: i > 0 })),
    rows: [
      shareRow(t('callbacks.completed'), k.callbacks.completed),
      shareRow(t('callbacks.in_time'), k.callbacks.completedInTime),
      [t('callbacks.failed'), '', f.int(k.callbacks.failed), f.int(k.callbacks.requested)],
      [t('callbacks.cancelled'), '', f.int(k.callbacks.cancelled), f.int(k.callbacks.requested)],
      [t('callbacks.pending'), '', f.int(k.callbacks.pending), f.int(k.callbacks.requested)],
    ],
  });

  const survey = r.survey;
  if (survey) {
    const note = t('survey.note', { invited: f.int(survey.invited), answered: f.int(survey.answered), rate: f.percent(survey.responseRate) });
    tables.push({
      id: 'survey',
      title: t('survey.title'),
      note: survey.suppressed ? `${note} ${t('survey.too_few', { minimum: String(survey.minimum) })}` : note,
      columns: [t('survey.question'), t('survey.index'), t('survey.responses'), '1', '2', '3', '4', '5'].map((label, i) => ({ label, numeric: i > 0 })),
      rows: (['treatment', 'ease', 'clarity'] as const).map((q) =>
        survey.suppressed
          ? [t(`survey.${q}`), '–', '–', '–', '–', '–', '–', '–']
          : [t(`survey.${q}`), f.decimal(survey[q].index), f.int(survey[q].responses), ...survey[q].distribution.map((n) => f.int(n))],
      ),
    });
  }

  tables.push({
    id: 'backlog',
    title: t('backlog.title'),
    note: t('backlog.note'),
    columns: [{ label: t(`volumes.period_${r.volumes.per}`), numeric: false }, { label: t('backlog.open'), numeric: true }],
    rows: r.backlog.map((b) => [periodLabel(b.period, r.volumes.per, lang), f.int(b.open)]),
  });

  tables.push({
    id: 'faq',
    title: t('faq.title'),
    note: t('faq.note'),
    columns: [{ label: t('kkik.measure'), numeric: false }, { label: t('faq.value'), numeric: true }],
    rows: [
      [t('faq.visits'), f.int(r.faq.visitsWithSuggestion)],
      [t('faq.deflected'), f.int(r.faq.deflected)],
      [t('faq.submitted'), f.int(r.faq.submitted)],
      [t('faq.rate'), f.percent(r.faq.deflectionRate)],
      [t('faq.reply_uses'), f.int(r.faq.replyUses)],
      [t('faq.cases_with_use'), f.int(r.faq.casesWithUse)],
    ],
  });

  if (opts.manager && r.agents) {
    tables.push({
      id: 'agents',
      title: t('agents.title'),
      note: t('agents.note'),
      columns: [t('agents.agent'), t('agents.cases'), t('agents.answered'), t('agents.first_response'), t('agents.direct'), t('agents.resolved'), t('agents.resolution'), t('agents.calls')].map((label, i) => ({
        label,
        numeric: i > 0,
      })),
      rows: r.agents.map((a) => [
        a.name,
        f.int(a.cases),
        f.int(a.answered),
        f.hours(a.first_response_median_hours),
        f.int(a.resolved_direct),
        f.int(a.resolved),
        f.hours(a.resolution_median_hours),
        f.int(a.calls_answered),
      ]),
    });
  }
  if (opts.manager && r.departments) {
    tables.push({
      id: 'departments',
      title: t('departments.title'),
      note: t('departments.note'),
      columns: [t('departments.department'), t('departments.cases'), t('departments.resolved'), t('departments.resolution')].map((label, i) => ({ label, numeric: i > 0 })),
      rows: r.departments.map((d) => [d.name, f.int(d.cases), f.int(d.resolved), f.hours(d.resolution_median_hours)]),
    });
  }
  return tables;
}

/** 0 for none, else 1–5 by the share of the busiest hour: the shade of a heat-map cell. */
export function heatLevel(count: number, busiest: number): number {
  return count <= 0 || busiest <= 0 ? 0 : Math.min(5, 1 + Math.floor((4 * count) / busiest));
}
