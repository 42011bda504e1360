import { randomBytes } from 'node:crypto';
import type { Services } from '../services.js';
import { seedHistory } from '../stats/history-seed.js';
import { backfillCaseMetrics } from '../stats/metrics-backfill.js';
import { createCaseMetricsStore } from '../stats/metrics-store.js';

/** Six weeks of contacts behind the demo, so the statistics and the live board have something to show. */
const DEMO_HISTORY = { cases: 1200, days: 42, seed: 2026 };

const DEPARTMENTS = [
  { slug: 'samhallsbyggnad', name: 'Samhällsbyggnadsförvaltningen', email: 'samhallsbyggnad@borlange.example' },
  { slug: 'socialtjanst', name: 'Social- och arbetsmarknadsförvaltningen', email: 'forsorjningsstod@borlange.example' },
  { slug: 'utbildning', name: 'Utbildningsförvaltningen', email: 'forskola@borlange.example' },
  { slug: 'teknik', name: 'Tekniska förvaltningen', email: null },
  { slug: 'kommunledning', name: 'Kommunledningsförvaltningen', email: null },
];

const CATEGORIES = [
  { slug: 'bygglov', name_sv: 'Bygglov', name_en: 'Building permits', department: 'samhallsbyggnad', sort_order: 10,
    description_sv: 'Bygga nytt, bygga till, attefallshus, marklov och rivning.', description_en: 'New buildings, extensions, small houses, site and demolition permits.' },
  // The one topic whose handling needs the resident's personnummer (an application for ekonomiskt bistånd): the form asks for it here only.
  { slug: 'forsorjningsstod', name_sv: 'Försörjningsstöd', name_en: 'Financial assistance', department: 'socialtjanst', sort_order: 20, asks_personnummer: true,
    description_sv: 'Ekonomiskt bistånd när pengarna inte räcker.', description_en: 'Financial support when your money is not enough.' },
  { slug: 'forskoleplats', name_sv: 'Förskoleplats', name_en: 'Preschool places', department: 'utbildning', sort_order: 30,
    description_sv: 'Ansöka om plats, byta förskola, avgifter och uppsägning.', description_en: 'Applying for a place, changing preschool, fees and notice.' },
  { slug: 'gator-och-trafik', name_sv: 'Gator och trafik', name_en: 'Streets and traffic', department: 'teknik', sort_order: 40,
    description_sv: 'Snöröjning, gatubelysning, parkering och skador på gator.', description_en: 'Snow clearing, street lights, parking and damaged streets.' },
  { slug: 'ovrigt', name_sv: 'Övrigt', name_en: 'Other', department: null, sort_order: 90,
    description_sv: 'Allt annat du vill fråga kommunen om.', description_en: 'Anything else you want to ask the municipality.' },
];

const DEMO_CASES = [
  { name: 'Karin Lindqvist', email: 'karin.lindqvist@example.com', category: 'bygglov', subject: 'Attefallshus på tomten',
    message: 'Hej! Vi funderar på att bygga ett attefallshus på 30 kvadratmeter. Behöver vi söka bygglov eller räcker det med en anmälan?' },
  { name: 'Ahmed Hassan', phone: '070-123 45 67', category: 'forskoleplats', subject: 'Förskoleplats från januari',
    message: 'Vi flyttar till Borlänge i december och behöver förskoleplats för vår dotter från januari. Hur ansöker vi?' },
  { name: 'Lena Berg', email: 'lena.berg@example.com', category: 'gator-och-trafik', subject: 'Trasig gatlykta',
    message: 'Gatlyktan utanför Stationsgatan 12 har varit släckt i två veckor.' },
];

/**
 * Departments, topics and the FAQ's articles every installation starts with
 * (editable afterwards), on every start and by `cli migrate`, on the embedded
 * database and on PostgreSQL alike. Each part is seeded only while it is
 * empty, so an installation that already had topics still gets the FAQ once.
 * True when anything was added.
 */
export async function seedReferenceData(s: Services): Promise<boolean> {
  let seeded = false;
  if (!(await s.organisation.listCategories()).length) {
    for (const d of DEPARTMENTS) await s.organisation.createDepartment(d);
    for (const c of CATEGORIES) await s.organisation.createCategory(c);
    seeded = true;
  }
  if ((await s.faq.seed()) > 0) seeded = true;
  return seeded;
}

/**
 * The demo's people, six weeks of history (seed:history) and a few cases, once. The password comes from
 * DEMO_PASSWORD, or is generated and shown once in the log.
 */
export async function seedDemo(s: Services): Promise<{ seeded: boolean; password?: string; generated?: boolean }> {
  if ((await s.auth.countUsers()) > 0) return { seeded: false };
  const generated = !s.config.demoPassword;
  const password = s.config.demoPassword ?? randomBytes(12).toString('base64url');
  const staff = [];
  for (const [role, name] of [['agent', 'Anna Agent'], ['editor', 'Erik Redaktör'], ['manager', 'Maria Chef'], ['admin', 'Adam Admin']] as const) {
    staff.push(await s.auth.createUser({ email: `${role}@borlange.example`, name, role, password }));
  }
  await seedHistory({ db: s.db, hours: s.hours, timeZone: s.config.calendar.timeZone, callbacks: s.config.callbacks }, DEMO_HISTORY);
  await backfillCaseMetrics({ store: createCaseMetricsStore(s.db), workingTime: s.workingTime });
  for (const c of DEMO_CASES) await s.cases.createCase(c, { channel: c.email ? 'web' : 'phone' });
  // A morning at the desk: a call answered directly, and a resident waiting to be called back.
  const agent = staff[0];
  if (agent) {
    await s.contacts.register(agent, { channel: 'phone', category: 'forskoleplats', summary: 'Frågade hur lång kön till förskola är just nu. Svarat: cirka tre månader.', outcome: 'answered' }, { lang: 'sv' });
    const slot = s.callbacks.slots()[0];
    if (slot) {
      await s.callbacks.request(
        { name: 'Olof Ek', phone: '070-765 43 21', category: 'forsorjningsstod', slot: slot.start.toISOString(), message: 'Vill veta vilka papper som behövs för ansökan.' },
        { lang: 'sv' },
      );
    }
  }
  return { seeded: true, password, generated };
}
