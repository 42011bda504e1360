/**
 * bench/faq-search: FAQ search latency with 100 and with 10,000 published
 * articles, measured in the same run with the same query mix; the figure that
 * matters is the ratio 10,000 : 100 (target at most 2).
 *
 * The corpora: the shipped articles (seeded as on a first start) plus
 * synthetic ones made from them. A synthetic article keeps the structure and
 * the short words of its source article but every longer word becomes a
 * pseudo-word of its topic (one of 1,000), so the vocabulary, the indexes and
 * the trigram candidate lists grow with the corpus as they would with real
 * articles on many subjects, and a topic's words recur in its few articles.
 * Article j is the same in both corpora: the 10,000 set contains the 100 set.
 *
 * The search is called in-process through the service (services.faq.search),
 * on PostgreSQL (scratch databases) and on the embedded database (PGlite, in
 * memory), BENCH_FAQ_DB=postgres|embedded|both (default both).
 *
 * Settings: BENCH_FAQ_ROUNDS (5), BENCH_FAQ_REPEAT (each query per round, 10),
 * BENCH_FAQ_LARGE (10000), BENCH_DATABASE_URL / DATABASE_URL (the admin URL).
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import { seedReferenceData } from '../server/demo/seed.js';
import { createEmbeddedInstance, openPostgres, wrapPglite, type Database } from '../server/platform/db.js';
import { createLogger } from '../server/platform/logger.js';
import { migrateLatest } from '../server/platform/migrate.js';
import { createServices, type Services } from '../server/services.js';
import { readArticles, type SeedArticle } from '../server/faq/seed.js';
import type { FaqLang } from '../server/faq/store.js';
import {
  benchConfig,
  cleanUpOnSignals,
  environment,
  fixed,
  intSetting,
  machineLine,
  median,
  onlyOnce,
  percentile,
  postgresInfo,
  postgresLine,
  readCommonSettings,
  resultFile,
  scratchSpace,
  table,
  writeResult,
  type ScratchSpace,
} from './support.js';

const SMALL = 100;
const TOPICS = 1000;

interface Settings {
  adminUrl: string;
  rounds: number;
  repeat: number;
  large: number;
  databases: ('postgres' | 'embedded')[];
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const { adminUrl } = readCommonSettings(env);
  const which = env.BENCH_FAQ_DB ?? 'both';
  if (!['postgres', 'embedded', 'both'].includes(which)) throw new Error('BENCH_FAQ_DB must be postgres, embedded or both');
  return {
    adminUrl,
    rounds: intSetting(env, 'BENCH_FAQ_ROUNDS', 5, 1, 100),
    repeat: intSetting(env, 'BENCH_FAQ_REPEAT', 10, 1, 1000),
    large: intSetting(env, 'BENCH_FAQ_LARGE', 10_000, 1_000, 100_000),
    databases: which === 'both' ? ['postgres', 'embedded'] : [which as 'postgres' | 'embedded'],
  };
}

const hash = (s: string) => createHash('sha1').update(s).digest();

const VOWELS = 'aeiouyåäö';
const CONSONANTS = 'bcdfghjklmnpqrstvwxz';
const ARABIC = Array.from({ length: 0x064a - 0x0621 + 1 }, (_, i) => String.fromCharCode(0x0621 + i)).join('');

/** A deterministic shuffle of `letters` for a topic. */
function shuffled(letters: string, topic: number, salt: string): string {
  const out = [...letters];
  for (let i = out.length - 1; i > 0; i--) {
    const j = hash(`${salt}:${topic}:${i}`).readUInt32BE(0) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out.join('');
}

const ciphers = new Map<number, Map<string, string>>();
/** Each topic writes its words with its own letters: vowels swap with vowels, consonants with consonants, Arabic letters among themselves. */
function cipherOf(topic: number): Map<string, string> {
  let m = ciphers.get(topic);
  if (!m) {
    m = new Map();
    for (const [from, salt] of [[VOWELS, 'v'], [CONSONANTS, 'c'], [ARABIC, 'a']] as const) {
      const to = shuffled(from, topic, salt);
      for (let i = 0; i < from.length; i++) {
        m.set(from[i]!, to[i]!);
        if (salt !== 'a') m.set(from[i]!.toUpperCase(), to[i]!.toUpperCase());
      }
    }
    ciphers.set(topic, m);
  }
  return m;
}

const topicOf = (j: number) => hash(`topic:${j}`).readUInt32BE(0) % TOPICS;

/** Every word is rewritten in its topic's letters; punctuation, digits and Markdown stay. */
const vary = (text: string, topic: number) => {
  const m = cipherOf(topic);
  return text.replace(/[\p{L}]/gu, (ch) => m.get(ch) ?? ch);
};

export function syntheticArticle(j: number, real: SeedArticle[]): SeedArticle {
  const source = real[j % real.length]!;
  const topic = topicOf(j);
  return {
    ...source,
    slug: `syntetisk-${j}`,
    popular: j % 7 === 0,
    versions: source.versions.map((v) => ({ lang: v.lang, title: vary(v.title, topic), summary: vary(v.summary, topic), keywords: vary(v.keywords, topic), body_md: vary(v.body_md, topic) })),
  };
}

/** Adds synthetic published articles 0..count-1 in batches. */
export async function addSynthetic(knex: Knex, count: number, real: SeedArticle[]): Promise<void> {
  const BATCH = 250;
  for (let start = 0; start < count; start += BATCH) {
    const articles = Array.from({ length: Math.min(BATCH, count - start) }, (_, i) => syntheticArticle(start + i, real));
    await knex.transaction(async (trx) => {
      const ids = (await trx('faq_articles')
        .insert(articles.map((a) => ({ category: a.category, slug: a.slug, reviewed_at: a.reviewed_at, popular: a.popular })))
        .returning('id')) as { id: number }[];
      const versions = articles.flatMap((a, i) => a.versions.map((v) => ({ article_id: ids[i]!.id, version: 1, status: 'published', ...v })));
      for (let k = 0; k < versions.length; k += 200) await trx('faq_versions').insert(versions.slice(k, k + 200));
    });
  }
  await knex.raw('ANALYZE faq_articles');
  await knex.raw('ANALYZE faq_versions');
}

/** The same mix on both corpora: the tests' queries, typos, prefixes, questions, other languages, and words of synthetic topics. */
export function queryMix(real: SeedArticle[]): { q: string; lang: FaqLang }[] {
  const sv = (q: string) => ({ q, lang: 'sv' as FaqLang });
  const synthetic = [1, 2, 3].map((j) => {
    const a = syntheticArticle(j, real);
    const words = a.versions.find((v) => v.lang === 'sv')!.title.match(/[\p{L}]{6,}/gu) ?? ['saknas'];
    return words[0]!;
  });
  return [
    sv('attefallshus'),
    sv('bygglov'),
    sv('bygglovet'),
    sv('bygglovsansökan'),
    sv('förskolan'),
    sv('förskoleplatsen'),
    sv('atefalshus'),
    sv('försörjningstöd'),
    sv('attef'),
    sv('försörj'),
    sv('hur ansöker jag om bygglov'),
    sv('vad kostar förskolan'),
    sv('hur lång tid tar det att få försörjningsstöd'),
    { q: 'preschool place', lang: 'en' },
    { q: 'how do I apply for a building permit', lang: 'en' },
    { q: 'مكان في الروضة', lang: 'ar' },
    ...synthetic.map(sv),
    sv(synthetic[0]!.slice(0, 5)),
  ];
}

interface Corpus {
  size: number;
  services: Services;
  close(): Promise<void>;
}

async function openCorpus(kind: 'postgres' | 'embedded', size: number, real: SeedArticle[], scratch: ScratchSpace | undefined): Promise<Corpus> {
  let database: Database;
  if (kind === 'postgres') {
    await scratch!.createDatabase();
    database = openPostgres(scratch!.dbUrl, 4);
  } else {
    database = wrapPglite(await createEmbeddedInstance());
  }
  await migrateLatest(database.knex);
  const config = benchConfig({ databaseUrl: kind === 'postgres' ? scratch!.dbUrl : '', pool: 4, dataDir: scratch?.dataDir ?? os.tmpdir() });
  const services = createServices({ config, db: database.knex, logger: createLogger(config) });
  await seedReferenceData(services);
  const seeded = Number((await database.knex('faq_articles').count<{ n: string }[]>({ n: '*' }))[0]!.n);
  await addSynthetic(database.knex, size - seeded, real);
  return {
    size,
    services,
    close: async () => {
      services.mail.transport.close();
      await database.close();
    },
  };
}

async function timeMix(c: Corpus, mix: { q: string; lang: FaqLang }[], repeat: number): Promise<number[]> {
  const out: number[] = [];
  for (let r = 0; r < repeat; r++) {
    for (const { q, lang } of mix) {
      const t0 = performance.now();
      await c.services.faq.search(q, lang, 10);
      out.push(performance.now() - t0);
    }
  }
  return out;
}

async function main(): Promise<void> {
  const settings = readSettings(process.env);
  const loadAtStart = os.loadavg();
  const real = readArticles();
  const mix = queryMix(real);
  const scratches: ScratchSpace[] = [];
  const corpora: Corpus[] = [];
  const cleanup = onlyOnce(async () => {
    for (const c of corpora) await c.close().catch(() => undefined);
    for (const s of scratches) await s.remove();
  });
  cleanUpOnSignals(cleanup);
  const results: Record<string, unknown>[] = [];
  try {
    const pgInfo = settings.databases.includes('postgres') ? await postgresInfo(settings.adminUrl) : undefined;
    console.log(
      [
        `FAQ search benchmark: ${SMALL} vs ${settings.large} published articles (sv and en each, ar for some), ${mix.length} queries × ${settings.repeat} per round × ${settings.rounds} interleaved rounds`,
        ...(pgInfo ? [postgresLine(pgInfo, `sc_bench_faq_${process.pid}_*`)] : []),
        `  ${machineLine(loadAtStart)}; in-process services.faq.search(q, lang, 10), one query at a time`,
      ].join('\n'),
    );
    const rows: string[][] = [['database', 'articles', 'p50 ms', 'p99 ms', 'mean ms', 'results']];
    for (const kind of settings.databases) {
      const setupStart = performance.now();
      const pair: Corpus[] = [];
      for (const size of [SMALL, settings.large]) {
        const scratch = kind === 'postgres' ? scratchSpace(settings.adminUrl, `sc_bench_faq_${process.pid}_${size}`, 'sc-bench-faq-') : undefined;
        if (scratch) scratches.push(scratch);
        const c = await openCorpus(kind, size, real, scratch);
        corpora.push(c);
        pair.push(c);
      }
      console.log(`${kind}: corpora ready in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`);
      // Same answers for the real queries in both corpora is not expected (synthetic articles may match), but none may be empty.
      const hits: Record<number, number> = {};
      for (const c of pair) {
        hits[c.size] = 0;
        for (const { q, lang } of mix) hits[c.size]! += (await c.services.faq.search(q, lang, 10)).length;
        await timeMix(c, mix, 2); // warm-up: plans, caches
      }
      const lat: Record<number, number[]> = { [SMALL]: [], [settings.large]: [] };
      const ratioP50: number[] = [];
      const ratioP99: number[] = [];
      for (let round = 0; round < settings.rounds; round++) {
        const perSize: Record<number, number[]> = {};
        // Alternate which corpus goes first, so neither always runs on a warmer machine.
        const order = round % 2 ? [...pair].reverse() : pair;
        for (const c of order) perSize[c.size] = await timeMix(c, mix, settings.repeat);
        for (const c of pair) lat[c.size]!.push(...perSize[c.size]!);
        ratioP50.push(percentile(perSize[settings.large]!, 50) / percentile(perSize[SMALL]!, 50));
        ratioP99.push(percentile(perSize[settings.large]!, 99) / percentile(perSize[SMALL]!, 99));
      }
      for (const c of pair) {
        const xs = lat[c.size]!;
        rows.push([kind, String(c.size), fixed(percentile(xs, 50), 2), fixed(percentile(xs, 99), 2), fixed(xs.reduce((a, b) => a + b, 0) / xs.length, 2), String(hits[c.size])]);
      }
      const summary = {
        database: kind,
        small: { articles: SMALL, p50: percentile(lat[SMALL]!, 50), p99: percentile(lat[SMALL]!, 99), samples: lat[SMALL]!.length },
        large: { articles: settings.large, p50: percentile(lat[settings.large]!, 50), p99: percentile(lat[settings.large]!, 99), samples: lat[settings.large]!.length },
        ratioP50PerRound: ratioP50,
        ratioP99PerRound: ratioP99,
        ratioP50: median(ratioP50),
        ratioP99: median(ratioP99),
      };
      results.push(summary);
      for (const c of pair) await c.close();
      corpora.length = 0;
    }
    console.log(`\n${table(rows, new Set([1, 2, 3, 4, 5]))}\n`);
    for (const r of results as { database: string; ratioP50: number; ratioP99: number }[]) {
      const verdict = r.ratioP50 <= 2 && r.ratioP99 <= 2 ? 'within' : 'OVER';
      console.log(`${r.database}: ratio ${settings.large}:${SMALL} p50 ${r.ratioP50.toFixed(2)}, p99 ${r.ratioP99.toFixed(2)} (medians over rounds; target ≤ 2: ${verdict})`);
    }
    writeResult(resultFile('faq-search.json'), { settings: { ...settings, adminUrl: undefined }, queries: mix, environment: environment(loadAtStart, pgInfo), results });
  } finally {
    await cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
