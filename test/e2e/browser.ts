import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Result as AxeResult } from 'axe-core';
import { chromium, type BrowserContext, type Page, type Response } from 'playwright-core';
import type { Role } from '../../server/auth/roles.js';
import type { Config } from '../../server/config.js';
import { startTestApp, TEST_PASSWORD, type TestApp } from '../support/harness.js';

/**
 * Browser tests drive Debian's Chromium through playwright-core. Nothing here
 * downloads a browser: without /usr/bin/chromium the tests fail with a hint.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface BrowserSession {
  /** One browser with its own profile: its own cookies, like one person's computer. */
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** A headless Chromium with a fresh, throw-away profile. */
export async function launchBrowser(opts: { viewport?: { width: number; height: number } } = {}): Promise<BrowserSession> {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'sc-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: opts.viewport ?? { width: 1280, height: 900 },
      locale: 'sv-SE',
      timezoneId: 'Europe/Stockholm',
    });
  } catch (err) {
    rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    throw new Error(`Could not start Chromium at ${CHROMIUM} (install it with \`apt-get install -y chromium\`): ${(err as Error).message}`);
  }
  // Functions passed to page.evaluate() are compiled by tsx (esbuild with keepNames),
  // which may wrap named inner functions in a __name() helper the page lacks.
  await context.addInitScript({ content: 'globalThis.__name ??= (fn) => fn;' });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
}

export interface ServedApp extends TestApp {
  /** http://127.0.0.1:<port>, which is also config.publicUrl. */
  baseUrl: string;
  stop(): Promise<void>;
}

/**
 * The test app on a real socket. The port is chosen first so that
 * config.publicUrl (used in mails and on the receipt) is the address the
 * browser actually uses.
 */
export async function serveTestApp(config: Partial<Config> = {}): Promise<ServedApp> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503).end('starting');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const closeServer = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let t: TestApp;
  try {
    t = await startTestApp({ config: { ...config, publicUrl: baseUrl } });
  } catch (err) {
    await closeServer();
    throw err;
  }
  handler = t.app;
  await t.services.live.attach(server);
  return Object.assign(t, {
    baseUrl,
    async stop() {
      await closeServer();
      await t.close();
    },
  });
}

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

/** WCAG 2.0 and 2.1, levels A and AA. */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/**
 * Runs axe-core in the page. The pages send `script-src 'self'`, so the source
 * is evaluated through the DevTools protocol (not subject to the page's CSP)
 * rather than injected as an inline script: the CSP stays on while testing.
 */
export async function axeViolations(page: Page): Promise<AxeResult[]> {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe === 'object');
  if (!loaded) await page.evaluate(axeSource);
  return page.evaluate(async (tags) => {
    const axe = (window as unknown as { axe: typeof import('axe-core') }).axe;
    const results = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return results.violations;
  }, WCAG_TAGS);
}

function describeViolations(violations: AxeResult[]): string {
  return violations
    .map((v) => {
      const nodes = v.nodes.map((n) => `    ${n.target.join(' ')}\n      ${n.failureSummary?.replace(/\n/g, '\n      ') ?? ''}`).join('\n');
      return `  [${v.impact ?? 'n/a'}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes}`;
    })
    .join('\n');
}

/** Fails with every WCAG 2.1 A/AA violation axe finds on the page, naming the elements. */
export async function assertAccessible(page: Page, label: string): Promise<void> {
  const violations = await axeViolations(page);
  assert.equal(violations.length, 0, `axe found WCAG 2.1 A/AA violations on ${label} (${page.url()}):\n${describeViolations(violations)}`);
}

/** What the focused element is, for keyboard tests. */
export interface Focused {
  tag: string;
  id: string;
  type: string;
  name: string;
  href: string;
  text: string;
  /** Whether the focus indicator is visible (an outline or a box-shadow). */
  indicator: boolean;
}

export async function focused(page: Page): Promise<Focused> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return { tag: 'body', id: '', type: '', name: '', href: '', text: '', indicator: false };
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    return {
      tag: el.tagName.toLowerCase(),
      id: el.id,
      type: el.getAttribute('type') ?? '',
      name: el.getAttribute('name') ?? '',
      href: el.getAttribute('href') ?? '',
      text: (el.textContent ?? '').trim().replace(/\s+/g, ' '),
      indicator: outline || style.boxShadow !== 'none',
    };
  });
}

/**
 * Presses Tab until the focused element matches, as a keyboard user would,
 * and checks on the way that every element that gets focus shows it (WCAG 2.4.7).
 */
export async function tabTo(page: Page, matches: (f: Focused) => boolean, what: string, maxPresses = 60): Promise<Focused> {
  const seen: string[] = [];
  for (let i = 0; i < maxPresses; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    seen.push(`${f.tag}${f.id ? `#${f.id}` : ''}${f.href ? `[href=${f.href}]` : ''}`);
    assert.ok(f.tag === 'body' || f.indicator, `no visible focus indicator on ${seen.at(-1)} (${f.text.slice(0, 60)})`);
    if (matches(f)) return f;
  }
  throw new Error(`Tab never reached ${what} after ${maxPresses} presses; focus went through: ${seen.join(', ')}`);
}

/** Decodes a quoted-printable body (what the .eml files use for non-ASCII text). */
export function decodeQuotedPrintable(text: string): string {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined[i] === '=' ? joined.slice(i + 1, i + 3) : '';
    if (/^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Sends a form the way a keyboard user does: Tab to its submit button, then Enter. */
export async function submitWithKeyboard(page: Page, buttonText: RegExp): Promise<Response> {
  await tabTo(page, (f) => f.tag === 'button' && buttonText.test(f.text), `the button ${buttonText}`);
  // The next load event is the new page's: the current one has loaded already.
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.request().isNavigationRequest()),
    page.waitForEvent('load'),
    page.keyboard.press('Enter'),
  ]);
  return response;
}

/** A new staff member of the role, signed in through the login form in this browser (lands on /agent). */
export async function signIn(app: ServedApp, session: BrowserSession, role: Role, name: string): Promise<{ email: string }> {
  const email = `${role}.${randomBytes(4).toString('hex')}@e2e.example`;
  await app.services.auth.createUser({ email, name, role, password: TEST_PASSWORD });
  const { page } = session;
  await page.goto(`${app.baseUrl}/login`);
  await page.fill('#f-email', email);
  await page.fill('#f-password', TEST_PASSWORD);
  await Promise.all([page.waitForURL(`${app.baseUrl}/agent`), page.press('#f-password', 'Enter')]);
  return { email };
}
