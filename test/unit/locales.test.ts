import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasKey, localeKeys, translate } from '../../server/platform/i18n.js';
import { CHANNELS, ConflictErrorForClosed, InvalidTransitionError, STATUSES } from '../../server/cases/lifecycle.js';
import { ROLES } from '../../server/auth/roles.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Files under a folder of the repository, by extension, as paths relative to the root. */
function filesUnder(dir: string, ext: string): string[] {
  return (readdirSync(path.join(ROOT, dir), { recursive: true }) as string[])
    .filter((f) => f.endsWith(ext))
    .map((f) => path.join(dir, f).replace(/\\/g, '/'))
    .sort();
}

interface Use {
  key: string;
  where: string;
}

/** Every match of the pattern's first group, with file:line. */
function usesIn(files: string[], pattern: RegExp): Use[] {
  const out: Use[] = [];
  for (const file of files) {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    for (const m of text.matchAll(pattern)) {
      const line = text.slice(0, m.index).split('\n').length;
      out.push({ key: m[1]!, where: `${file}:${line}` });
    }
  }
  return out;
}

/** Fails with one line per missing key, so the list can be copied into sv.json. */
function assertAllIn(lang: string, uses: Use[], what: string): void {
  const missing = new Map<string, string[]>();
  for (const u of uses) if (!hasKey(lang, u.key)) missing.set(u.key, [...(missing.get(u.key) ?? []), u.where]);
  if (missing.size) {
    const lines = [...missing].map(([key, where]) => `  ${key}    (${where.join(', ')})`);
    assert.fail(`${missing.size} key(s) ${what} missing from ${lang}.json:\n${lines.join('\n')}`);
  }
}

function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort();
}

const sv = localeKeys('sv');
const en = localeKeys('en');

/**
 * What a resident reads: their pages, the mail they get, the layout and the
 * error page, with every partial these include (and the partials those include).
 */
function residentTemplates(): string[] {
  const start = [
    ...filesUnder('views/resident', '.hbs'),
    ...filesUnder('views/emails', '.hbs').filter((f) => !f.includes('/handover.')),
    'views/layouts/main.hbs',
    'views/error.hbs',
  ];
  const seen = new Set(start);
  for (const file of seen) {
    for (const m of readFileSync(path.join(ROOT, file), 'utf8').matchAll(/\{\{~?>\s*([\w/-]+)/g)) seen.add(`views/partials/${m[1]}.hbs`);
  }
  return [...seen];
}

/** Texts only staff read (their pages are Swedish and English): the layout names some of them for signed-in users. */
const STAFF_ONLY = /^(agent|agents|queue|admin|calls|telephony|login|account|editor|contacts|presence|take_next|role|demo|stats|search)\./;

describe('locales', () => {
  it('has Swedish and English texts', () => {
    assert.ok(sv.length > 100, `sv.json has only ${sv.length} keys`);
    assert.ok(en.length > 100, `en.json has only ${en.length} keys`);
  });

  describe('sv and en have the same keys', () => {
    it('every Swedish key is in en.json', () => {
      const missing = sv.filter((k) => !hasKey('en', k));
      assert.deepEqual(missing, [], `missing from en.json:\n  ${missing.join('\n  ')}`);
    });

    it('every English key is in sv.json', () => {
      const extra = en.filter((k) => !hasKey('sv', k));
      assert.deepEqual(extra, [], `in en.json but not in sv.json:\n  ${extra.join('\n  ')}`);
    });

    it('no text is empty', () => {
      const empty = [...sv.map((k) => ['sv', k] as const), ...en.map((k) => ['en', k] as const)]
        .filter(([lang, k]) => !translate(lang, k).trim())
        .map(([lang, k]) => `${lang}: ${k}`);
      assert.deepEqual(empty, []);
    });
  });

  it('every key has the same placeholders in sv and en', () => {
    const mismatched = sv
      .filter((k) => hasKey('en', k))
      .map((k) => ({ k, sv: placeholders(translate('sv', k)), en: placeholders(translate('en', k)) }))
      .filter((p) => p.sv.join(',') !== p.en.join(','))
      .map((p) => `  ${p.k}: sv {${p.sv.join('}, {')}} / en {${p.en.join('}, {')}}`);
    assert.deepEqual(mismatched, [], `placeholders differ:\n${mismatched.join('\n')}`);
  });

  describe('keys used in the source exist in sv.json', () => {
    it('views: {{t "key"}} and (t "key")', () => {
      const uses = usesIn(filesUnder('views', '.hbs'), /[{(]~?\s*t\s+"([^"]+)"/g);
      assert.ok(uses.length > 50, `found only ${uses.length} uses of t in views/; has the helper changed?`);
      assertAllIn('sv', uses, 'used by {{t}} in views/');
    });

    it('views: {{tk "prefix" value}} names a family of keys', () => {
      const uses = usesIn(filesUnder('views', '.hbs'), /[{(]~?\s*tk\s+"([^"]+)"/g);
      const unknown = uses.filter((u) => !sv.some((k) => k.startsWith(`${u.key}.`)));
      assert.deepEqual(unknown.map((u) => `${u.key} (${u.where})`), [], 'tk prefixes with no keys in sv.json');
    });

    it("server: translate(lang, 'key')", () => {
      const uses = usesIn(filesUnder('server', '.ts'), /\btranslate\(\s*[^,()]+,\s*(?:'([^'\\$`]+)'|"[^"\\$`]+")/g).filter((u) => u.key !== undefined);
      assert.ok(uses.length > 10, `found only ${uses.length} literal translate() keys in server/`);
      assertAllIn('sv', uses, 'passed to translate() in server/');
    });

    it("server: 'errors.*' codes (zod schema messages, field error codes)", () => {
      const uses = usesIn(filesUnder('server', '.ts'), /['"`](errors\.[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)['"`]/g);
      assert.ok(uses.length > 10, `found only ${uses.length} 'errors.*' strings in server/`);
      assertAllIn('sv', uses, "written as 'errors.*' in server/");
    });
  });

  describe('dynamic key families exist in sv.json', () => {
    const family = (keys: string[], where: string): Use[] => keys.map((key) => ({ key, where }));

    it('status.<status> for every status, "active" and "all"', () => {
      assertAllIn('sv', family([...STATUSES, 'active', 'all'].map((s) => `status.${s}`), 'STATUSES'), 'for statuses');
    });

    it('status_help.<status> for every status', () => {
      assertAllIn('sv', family(STATUSES.map((s) => `status_help.${s}`), 'STATUSES'), 'for status help');
    });

    it('channel.<channel> for every channel', () => {
      assertAllIn('sv', family(CHANNELS.map((c) => `channel.${c}`), 'CHANNELS'), 'for channels');
    });

    it('role.<role> for every role', () => {
      assertAllIn('sv', family(ROLES.map((r) => `role.${r}`), 'ROLES'), 'for roles');
    });

    it('errors.page.<http status>.title/text for every error page', () => {
      const keys = ['400', '401', '403', '404', '409', '413', '429', '500'].flatMap((s) => [`errors.page.${s}.title`, `errors.page.${s}.text`]);
      assertAllIn('sv', family([...keys, 'errors.page.back'], 'server/app.ts error pages'), 'for error pages');
    });

    it('errors.<code> for the conflicts a resident can meet', () => {
      const codes = [new ConflictErrorForClosed().code, new InvalidTransitionError('closed', 'open').code];
      assertAllIn('sv', family(codes.map((c) => `errors.${c}`), 'server/cases/lifecycle.ts'), 'for conflict codes');
    });

    it('timeline.<event type> for every event the cases service writes', () => {
      const uses = usesIn(['server/cases/service.ts'], /\btype:\s*'([a-z]+\.[a-z]+)'/g);
      assert.ok(uses.length >= 5, 'found the event types the cases service writes (if the code moved, point this test at it)');
      assertAllIn('sv', uses.map((u) => ({ key: `timeline.${u.key}`, where: u.where })), 'for timeline events');
    });

    it('agent.done.<action> and agent.failed.<action> for every case action', () => {
      const src = readFileSync(path.join(ROOT, 'server/cases/routes.ts'), 'utf8');
      const union = /type CaseAction\s*=\s*([^;]+);/.exec(src)?.[1];
      assert.ok(union, 'found the CaseAction type in server/cases/routes.ts (if the code moved, point this test at it)');
      const actions = [...union.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]!);
      assertAllIn('sv', family(actions.map((a) => `agent.done.${a}`), 'CaseAction in server/cases/routes.ts'), 'for case actions');
      assertAllIn('sv', family(actions.map((a) => `agent.failed.${a}`), 'CaseAction in server/cases/routes.ts'), 'for failed case actions');
    });
  });

  describe('Arabic has every text a resident reads', () => {
    const ar = localeKeys('ar');
    const templates = residentTemplates();
    const used = usesIn(templates, /[{(]~?\s*t\s+"([^"]+)"/g).filter((u) => !STAFF_ONLY.test(u.key));
    // {{tk "status" c.status}}: every key of the family, as Swedish has them.
    const families = usesIn(templates, /[{(]~?\s*tk\s+"([^"]+)"/g).flatMap((u) => sv.filter((k) => k.startsWith(`${u.key}.`)).map((key) => ({ key, where: u.where })));
    const fromServer = usesIn(['server/intake/routes.ts', 'server/callbacks/routes.ts'], /\btranslate\(\s*[^,()]+,\s*'([^'\\$`]+)'/g);
    const errors = sv.filter((k) => k.startsWith('errors.')).map((key) => ({ key, where: 'errors.* in sv' }));
    const mail = ['email.ack.subject', 'email.reply.subject'].map((key) => ({ key, where: 'server/mail/compose.ts' }));
    const required = [...used, ...families, ...fromServer, ...errors, ...mail];

    it('finds the resident templates and their texts', () => {
      for (const f of ['views/resident/case.hbs', 'views/emails/acknowledgement.html.hbs', 'views/partials/field.hbs', 'views/partials/resident-status.hbs']) {
        assert.ok(templates.includes(f), `${f} is among the resident templates`);
      }
      assert.ok(used.length > 80, `found only ${used.length} uses of t in the resident templates`);
      assert.ok(families.some((u) => u.key === 'status_help.waiting'), 'the status help family');
      assert.ok(fromServer.some((u) => u.key === 'form.attachments.hint'), 'texts the resident routes translate');
    });

    it('every key the resident templates, routes and mails use, and every errors.* key, is in ar.json (or an ar.<area>.json)', () => {
      assertAllIn('ar', required, 'read by residents');
    });

    it('with the same placeholders as Swedish', () => {
      const mismatched = [...new Set(required.map((u) => u.key))]
        .filter((k) => hasKey('ar', k))
        .map((k) => ({ k, sv: placeholders(translate('sv', k)), ar: placeholders(translate('ar', k)) }))
        .filter((p) => p.sv.join(',') !== p.ar.join(','))
        .map((p) => `  ${p.k}: sv {${p.sv.join('}, {')}} / ar {${p.ar.join('}, {')}}`);
      assert.deepEqual(mismatched, [], `placeholders differ:\n${mismatched.join('\n')}`);
    });

    it('every Arabic text has Arabic in it, none is empty, and each has a Swedish key', () => {
      const empty = ar.filter((k) => !translate('ar', k).trim());
      assert.deepEqual(empty, [], 'empty Arabic texts');
      const notArabic = ar.filter((k) => !/\p{Script=Arabic}/u.test(translate('ar', k)));
      assert.deepEqual(notArabic, [], 'Arabic texts without Arabic script (an untranslated copy?)');
      // Topic names are the one family Swedish keeps in the database (categories.name_sv).
      const unknown = ar.filter((k) => !hasKey('sv', k) && !k.startsWith('topic.'));
      assert.deepEqual(unknown, [], 'Arabic keys that Swedish does not have (a typo?)');
    });

    it('every seeded topic is named in Arabic', () => {
      const src = readFileSync(path.join(ROOT, 'server/demo/seed.ts'), 'utf8');
      const slugs = [...src.matchAll(/\{ slug: '([a-z-]+)', name_sv:/g)].map((m) => m[1]!);
      assert.ok(slugs.length >= 5, 'found the seeded topics in server/demo/seed.ts');
      assertAllIn('ar', slugs.flatMap((slug) => [`topic.${slug}.name`, `topic.${slug}.description`].map((key) => ({ key, where: 'server/demo/seed.ts' }))), 'for the seeded topics');
    });
  });
});
