import type { Request } from 'express';
import { CHANNELS } from '../cases/lifecycle.js';
import { ValidationError, type FieldError } from '../platform/errors.js';
import { translate } from '../platform/i18n.js';
import type { RouteDef } from '../platform/routing.js';
import type { Services } from '../services.js';
import { WEEKDAYS } from './erlang-c.js';
import { STAFFING_DEFAULTS } from './staffing-schema.js';
import { hhmm, hourField, STAFFING_FIELDS, STAFFING_SOURCES, TARGET_CHOICES, type StaffingHour, type StaffingPlan, type StaffingTotals } from './staffing.js';

export const STAFFING_PAGE = '/agent/statistik/bemanning';

/** The page's own fields (the hours h0…h167 come on top). */
const FORM_FIELDS = ['source', 'from', 'to', 'channel', 'target', 'targetServiceLevel', 'targetSeconds', 'ahtSeconds', 'shrinkage', 'maxOccupancy'] as const;
type FormValues = Record<(typeof FORM_FIELDS)[number], string>;

/** Whether the form was sent: any parameter but the language switch's ?lang=. */
const isSubmitted = (query: Request['query']) => Object.keys(query).some((k) => k !== 'lang');

/** Numbers in the reader's language: "88,8 %" and "7,8" in Swedish, "88.8%" and "7.8" in English. */
function formatters(lang: string) {
  const locale = lang === 'en' ? 'en-GB' : 'sv-SE';
  const decimal = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const whole = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });
  const input = new Intl.NumberFormat(locale, { maximumFractionDigits: 1, useGrouping: false });
  return {
    decimal: (n: number) => decimal.format(n),
    whole: (n: number) => whole.format(n),
    /** For a form field: no grouping, so the value reads back as the same number. */
    input: (n: number) => input.format(n),
    percent: (n: number | null) => (n === null ? '–' : percent.format(n)),
    seconds: (n: number | null) => (n === null ? '–' : translate(lang, 'stats.staffing.seconds', { n: decimal.format(n) })),
  };
}

/** The clock time one hour of a day covers, narrowed to its open part when it is open only in part. */
function slotOf(week: Services['staffing']['week'], day: number, hour: number): { start: number; end: number } {
  const start = hour * 60;
  const open = week[day]!.filter((p) => p.endMinute > start && p.startMinute < start + 60);
  if (!open.length) return { start, end: start + 60 };
  return { start: Math.max(start, open[0]!.startMinute), end: Math.min(start + 60, open.at(-1)!.endMinute) };
}

export function statsStaffingRoutes(s: Services): RouteDef[] {
  const { staffing } = s;

  const dayName = (lang: string, d: number) => translate(lang, `stats.staffing.day.${WEEKDAYS[d]}`);
  const slotLabel = (d: number, hour: number) => {
    const slot = slotOf(staffing.week, d, hour);
    return `${hhmm(slot.start)}–${hhmm(slot.end)}`;
  };

  function valuesFrom(query: Request['query'], now: Date): FormValues {
    const submitted = isSubmitted(query);
    const str = (k: string) => (typeof query[k] === 'string' ? (query[k] as string) : '');
    const period = staffing.defaultPeriod(now);
    // The form's starting values; a link that leaves a field out shows it as it starts.
    const defaults: FormValues = {
      source: 'history',
      from: period.from,
      to: period.to,
      channel: '',
      target: '80-20',
      targetServiceLevel: String(STAFFING_DEFAULTS.targetServiceLevel),
      targetSeconds: String(STAFFING_DEFAULTS.targetSeconds),
      ahtSeconds: '',
      shrinkage: String(STAFFING_DEFAULTS.shrinkage),
      maxOccupancy: '',
    };
    if (!submitted) return defaults;
    return Object.fromEntries(FORM_FIELDS.map((k) => [k, query[k] === undefined ? defaults[k] : str(k)])) as FormValues;
  }

  /** Messages in the reader's language, and the summary's links to each field's control, in form order. */
  function errorsFor(error: ValidationError | undefined, lang: string) {
    if (!error) return { errors: {} as Record<string, string>, errorList: [] as { href: string; message: string }[] };
    const message = (f: FieldError) => {
      const hour = /^h(\d+)$/.exec(f.field);
      if (!hour) return translate(lang, f.code, f.params ?? {});
      const i = Number(hour[1]);
      const slot = `${dayName(lang, Math.floor(i / 24))} ${slotLabel(Math.floor(i / 24), i % 24)}`;
      return translate(lang, f.code, { ...f.params, slot });
    };
    const errors = Object.fromEntries(error.fields.map((f) => [f.field, message(f)]));
    const anchor = (field: string) => {
      if (field === 'source') return 'f-source-history';
      if (field === 'target') return 'f-target-80-20';
      if (field === 'arrivalsPerHour') return `f-${hourField(Math.max(0, staffing.openMinutes.findIndex((m) => m > 0)))}`;
      return (STAFFING_FIELDS as readonly string[]).includes(field) || /^h\d+$/.test(field) ? `f-${field}` : 'f-ahtSeconds';
    };
    return { errors, errorList: error.fields.map((f) => ({ href: `#${anchor(f.field)}`, message: errors[f.field]! })) };
  }

  /** The entered week as a grid: rows are the hours open on some day, columns the days. */
  function grid(lang: string, query: Request['query'], plan: StaffingPlan | undefined, errors: Record<string, string>) {
    const fmt = formatters(lang);
    const hoursOpen = [...new Set(staffing.openMinutes.flatMap((m, i) => (m > 0 ? [i % 24] : [])))].sort((a, b) => a - b);
    const daysOpen = WEEKDAYS.map((_, d) => d).filter((d) => staffing.week[d]!.length > 0);
    return {
      days: daysOpen.map((d) => ({ name: dayName(lang, d) })),
      rows: hoursOpen.map((hour) => ({
        label: `${hhmm(hour * 60)}–${hhmm(hour * 60 + 60)}`,
        cells: daysOpen.map((d) => {
          const i = d * 24 + hour;
          if (staffing.openMinutes[i] === 0) return { closed: true };
          const name = hourField(i);
          const typed = query[name];
          // Prefilled from the plan shown (history gives a week to start from), else what was typed.
          const value = plan ? fmt.input(plan.hours[i]!.arrivals) : typeof typed === 'string' ? typed : '';
          return { closed: false, name, id: `f-${name}`, value, label: `${dayName(lang, d)} ${slotLabel(d, hour)}`, error: errors[name] };
        }),
      })),
    };
  }

  function totalsView(t: StaffingTotals, lang: string) {
    const fmt = formatters(lang);
    return {
      arrivals: fmt.decimal(t.arrivals),
      arrivalsWhileClosed: fmt.decimal(t.arrivalsWhileClosed),
      agentHours: fmt.decimal(t.agentHours),
      scheduledHours: fmt.decimal(t.scheduledHours),
      peakAgents: fmt.whole(t.peakAgents),
      peakScheduled: fmt.whole(t.peakScheduled),
      serviceLevel: fmt.percent(t.serviceLevel),
      asa: fmt.seconds(t.asa),
      occupancy: fmt.percent(t.occupancy),
    };
  }

  function resultView(plan: StaffingPlan, lang: string) {
    const fmt = formatters(lang);
    const { inputs } = plan;
    const hourRow = (h: StaffingHour, d: number) => ({
      slot: slotLabel(d, h.hour),
      arrivals: fmt.decimal(h.arrivals),
      agents: fmt.whole(h.agents!),
      scheduled: fmt.whole(h.scheduled!),
      // Without contacts there is nothing to predict.
      serviceLevel: h.arrivals > 0 ? fmt.percent(h.serviceLevel) : '–',
      asa: h.arrivals > 0 ? fmt.seconds(h.asa) : '–',
      occupancy: h.arrivals > 0 ? fmt.percent(h.occupancy) : '–',
    });
    const days = plan.days.map((day, d) => {
      const hours = plan.hours.slice(d * 24, d * 24 + 24);
      // Closed hours in a row make one row ("17:00–24:00 closed").
      const rows: Record<string, unknown>[] = [];
      for (let h = 0; h < 24; h++) {
        const hour = hours[h]!;
        if (hour.open) {
          rows.push({ open: true, ...hourRow(hour, d) });
          continue;
        }
        let end = h;
        let arrivals = 0;
        while (end < 24 && !hours[end]!.open) arrivals += hours[end++]!.arrivals;
        rows.push({ open: false, slot: `${hhmm(h * 60)}–${hhmm(end * 60)}`, arrivals: fmt.decimal(arrivals) });
        h = end - 1;
      }
      return {
        id: day.day,
        name: dayName(lang, d),
        open: day.openPeriods.length > 0,
        openText: day.openPeriods.map((p) => `${p.start}–${p.end}`).join(', '),
        ...totalsView(day, lang),
        rows,
      };
    });
    const hoursOpen = [...new Set(plan.hours.filter((h) => h.open).map((h) => h.hour))].sort((a, b) => a - b);
    const matrix = hoursOpen.map((hour) => ({
      label: `${hhmm(hour * 60)}–${hhmm(hour * 60 + 60)}`,
      cells: WEEKDAYS.map((_, d) => {
        const h = plan.hours[d * 24 + hour]!;
        return h.open ? { open: true, scheduled: fmt.whole(h.scheduled!), agents: fmt.whole(h.agents!) } : { open: false };
      }),
    }));
    const target = translate(lang, 'stats.staffing.target_text', { percent: fmt.decimal(inputs.targetServiceLevel), seconds: fmt.decimal(inputs.targetSeconds) });
    const used = [
      {
        label: translate(lang, 'stats.staffing.used.source'),
        value:
          inputs.source === 'history'
            ? translate(lang, 'stats.staffing.used.history', {
                from: inputs.period!.from,
                to: inputs.period!.to,
                weeks: fmt.decimal(inputs.period!.weeks),
                channel: inputs.channel ? translate(lang, `channel.${inputs.channel}`) : translate(lang, 'stats.staffing.channel_all'),
              })
            : translate(lang, 'stats.staffing.used.entered'),
      },
      ...(inputs.period?.closedDays.length
        ? [{ label: translate(lang, 'stats.staffing.used.closed_days'), value: inputs.period.closedDays.map((c) => `${c.day} (${c.name})`).join(', ') }]
        : []),
      { label: translate(lang, 'stats.staffing.used.target'), value: target },
      { label: translate(lang, 'stats.staffing.used.aht'), value: fmt.seconds(inputs.ahtSeconds) },
      { label: translate(lang, 'stats.staffing.used.shrinkage'), value: fmt.percent(inputs.shrinkage / 100) },
      { label: translate(lang, 'stats.staffing.used.max_occupancy'), value: inputs.maxOccupancy === null ? translate(lang, 'stats.staffing.none') : fmt.percent(inputs.maxOccupancy / 100) },
      { label: translate(lang, 'stats.staffing.used.office_hours'), value: inputs.officeHours },
    ];
    return { used, target, shrinkage: fmt.percent(inputs.shrinkage / 100), week: totalsView(plan.week, lang), days, matrix, hasArrivals: plan.week.arrivals > 0 };
  }

  return [
    {
      method: 'get',
      path: STAFFING_PAGE,
      access: 'manager',
      summary: 'Staffing per hour of the week with Erlang C, from history or entered arrivals',
      handler: async (req, res) => {
        const lang = req.ctx.lang;
        const now = new Date();
        let plan: StaffingPlan | undefined;
        let error: ValidationError | undefined;
        if (isSubmitted(req.query)) {
          try {
            plan = await staffing.planFromQuery(req.query, now);
          } catch (err) {
            if (!(err instanceof ValidationError)) throw err;
            error = err;
          }
        }
        const form = valuesFrom(req.query, now);
        // A link that left out the source, the target or the period shows what was used.
        if (plan) Object.assign(form, { source: plan.inputs.source, target: plan.inputs.target });
        if (plan?.inputs.period) Object.assign(form, { from: plan.inputs.period.from, to: plan.inputs.period.to });
        const { errors, errorList } = errorsFor(error, lang);
        res.status(error ? 400 : 200).render('stats/staffing', {
          lang,
          title: translate(lang, 'stats.staffing.title'),
          form,
          errors,
          errorList,
          hasErrors: errorList.length > 0,
          sources: STAFFING_SOURCES.map((value) => ({ value, checked: value === (form.source || 'history') })),
          targets: TARGET_CHOICES.map((value) => ({ value, checked: value === (form.target || '80-20') })),
          channels: CHANNELS.map((value) => ({ value, label: translate(lang, `channel.${value}`), selected: value === form.channel })),
          grid: grid(lang, req.query, plan, errors),
          // Open while the figures are being entered or have an error; with a result, the figures show in it.
          enteredOpen: (form.source === 'entered' && !plan) || Object.keys(errors).some((f) => /^h\d+$/.test(f) || f === 'arrivalsPerHour'),
          result: plan ? resultView(plan, lang) : undefined,
        });
      },
    },
    {
      method: 'get',
      path: '/api/v1/stats/staffing',
      access: 'manager',
      summary: 'Staffing per hour of the week with Erlang C (the inputs used and the 168 hours)',
      handler: async (req, res) => {
        res.json(await staffing.planFromQuery(req.query));
      },
    },
  ];
}
