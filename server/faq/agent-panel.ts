import { ValidationError } from '../platform/errors.js';
import { isLanguage, translate } from '../platform/i18n.js';
import { localizeFieldErrors, parseOrThrow } from '../platform/validation.js';
import type { FaqArticleJson } from './article-schemas.js';
import type { FaqReplyService } from './reply-service.js';
import { faqSearchQuerySchema, MAX_QUERY_LENGTH } from './schemas.js';
import type { FaqLang } from './store.js';

const panelQuerySchema = faqSearchQuerySchema.pick({ q: true });

/**
 * What "Infoga i svaret" puts in a reply: the title, the text and the link,
 * with the link's line in the resident's language. The browser
 * (public/js/src/faq-panel.ts) writes the same from the article's JSON.
 */
export function replyText(a: Pick<FaqArticleJson, 'title' | 'text' | 'url'>, readMore: string): string {
  return `${a.title}\n\n${a.text}\n\n${readMore.replace('{url}', a.url)}`;
}

/**
 * The case view's FAQ panel: `?faq=` searched in the case's language, each
 * result with its text to copy (the page without JavaScript) and what the
 * script needs to search while typing and insert into the reply.
 */
export async function agentFaqPanel(replies: Pick<FaqReplyService, 'suggest'>, input: unknown, caseLanguage: string, uiLang: string) {
  const lang: FaqLang = isLanguage(caseLanguage) ? caseLanguage : 'sv';
  const readMore = translate(lang, 'agent_faq.read_more');
  const panel = {
    lang,
    languageName: translate(uiLang, `agent_faq.language.${lang}`),
    readMore,
    maxLength: MAX_QUERY_LENGTH,
    q: typeof input === 'string' ? input : '',
    searched: false,
    error: undefined as string | undefined,
    status: '',
    results: [] as (FaqArticleJson & { path: string; copyText: string; noteId: string })[],
  };
  if (input === undefined || input === '') return panel;
  try {
    const { q } = parseOrThrow(panelQuerySchema, { q: input });
    const found = await replies.suggest(q, lang);
    panel.searched = true;
    panel.status = found.length === 0 ? translate(uiLang, 'agent_faq.none') : found.length === 1 ? translate(uiLang, 'agent_faq.count_one') : translate(uiLang, 'agent_faq.count', { n: found.length });
    panel.results = found.map((a) => {
      const url = new URL(a.url);
      return { ...a, path: `${url.pathname}${url.search}`, copyText: replyText(a, readMore), noteId: `faq-note-${a.category}-${a.slug}` };
    });
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    panel.error = localizeFieldErrors(err.fields, uiLang).q;
  }
  return panel;
}
