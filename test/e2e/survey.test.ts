import { strict as assert } from 'node:assert';
import { translate } from '../../server/platform/i18n.js';
import { TEST_PASSWORD } from '../support/harness.js';
import { assertAccessible, focused, launchBrowser, serveTestApp, submitWithKeyboard, tabTo, type BrowserSession, type ServedApp } from './browser.js';

/**
 * The service survey in a real browser: the page passes axe-core's WCAG 2.1
 * A/AA rules in Swedish and in Arabic (right to left), with an error and
 * after answering, and a resident answers it with the keyboard alone: Tab to
 * a question, the arrow keys within its scale, Tab to the next, Enter to send.
 */

type Lang = 'sv' | 'ar';
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const exactly = (lang: Lang, key: string) => new RegExp(`^${escape(translate(lang, key))}$`);

describe('browser (Chromium): the service survey', function () {
  this.timeout(120_000);

  let app: ServedApp;
  let resident: BrowserSession;
  const tokens: Partial<Record<Lang, string>> = {};

  before(async () => {
    app = await serveTestApp({ survey: { enabled: true, validDays: 30 } });
    resident = await launchBrowser();
    const agent = await app.services.auth.createUser({ email: 'survey-agent@test.example', name: 'Agnes Agent', role: 'agent', password: TEST_PASSWORD });
    for (const lang of ['sv', 'ar'] as const) {
      const created = await app.services.cases.createCase(
        { name: 'Sara Öberg', email: `sara.${lang}@example.com`, category: 'bygglov', message: 'Behöver jag bygglov för ett attefallshus?', language: lang },
        { channel: 'web' },
      );
      await app.services.cases.update(created.reference, agent, { status: 'resolved' });
      const mail = await app.db('mail_outbox').where({ case_id: created.id, kind: 'survey' }).first<{ text_body: string }>('text_body');
      tokens[lang] = /\/enkat\/([A-Za-z0-9_-]{43})/.exec(mail.text_body)?.[1];
      assert.ok(tokens[lang], `a survey link for the ${lang} case`);
    }
  });

  after(async () => {
    await resident?.close();
    await app?.stop();
  });

  /** Tab to the question's scale (focus lands on its first choice), then the arrow key to the grade; Down is "next" in either direction of text. */
  async function choose(question: string, grade: number) {
    const { page } = resident;
    const first = await tabTo(resident.page, (f) => f.name === question, `the question ${question}`);
    assert.equal(first.id, `f-${question}-1`, 'Tab lands on the first choice of an unanswered question');
    for (let g = 1; g < grade; g++) await page.keyboard.press('ArrowDown');
    if (grade === 1) await page.keyboard.press('Space');
    assert.equal(await page.isChecked(`#f-${question}-${grade}`), true, `the keyboard chose ${grade} for ${question}`);
  }

  it('in Swedish and Arabic: passes axe, and is answered with the keyboard alone, ending on the thanks', async () => {
    const { page } = resident;
    for (const lang of ['sv', 'ar'] as const) {
      const token = tokens[lang]!;
      await page.goto(`${app.baseUrl}/enkat/${token}`);
      assert.equal(await page.locator('html').getAttribute('lang'), lang, 'in the case language');
      assert.equal(await page.locator('html').getAttribute('dir'), lang === 'ar' ? 'rtl' : 'ltr');
      assert.equal(await page.locator('h1').innerText(), translate(lang, 'survey.title'));
      await assertAccessible(page, `the survey (${lang})`);

      if (lang === 'sv') {
        // Sent without an answer: the error summary takes focus and the page still passes.
        const refused = await submitWithKeyboard(page, exactly(lang, 'survey.submit'));
        assert.equal(refused.status(), 400);
        assert.equal((await focused(page)).tag, 'div', 'the error summary has focus');
        assert.equal(await page.locator('.error-summary a').innerText(), translate(lang, 'survey.errors.none'));
        await assertAccessible(page, `the survey with an error (${lang})`);
      }

      await choose('treatment', 5);
      await choose('ease', lang === 'sv' ? 4 : 1);
      // Clarity is left unanswered: every question is optional.
      const sent = await submitWithKeyboard(page, exactly(lang, 'survey.submit'));
      assert.equal(sent.status(), 303);
      assert.equal(new URL(page.url()).search, '?tack=1');
      assert.equal(await page.locator('h1').innerText(), translate(lang, 'survey.thanks.title'));
      await assertAccessible(page, `the thanks (${lang})`);
    }
    const answers = await app.db('service_surveys').orderBy('id').select('language', 'treatment', 'ease', 'clarity');
    assert.deepEqual(answers, [
      { language: 'sv', treatment: 5, ease: 4, clarity: null },
      { language: 'ar', treatment: 5, ease: 1, clarity: null },
    ]);
  });
});
