import type { Language } from '../platform/i18n.js';

const ARABIC_LETTER = /\p{Script=Arabic}/gu;
const LATIN_LETTER = /\p{Script=Latin}/gu;

/**
 * The language of a case that came by mail, for its acknowledgement and the
 * replies: Arabic when the resident wrote mostly in Arabic script, else
 * Swedish. Swedish and English are not told apart by guessing (mail
 * programs' Content-Language follows the program, not the text), so an
 * English writer's case stays Swedish until they choose on their case page.
 */
export function languageOfMail(m: { subject: string; text: string }): Language {
  const sample = `${m.subject}\n${m.text}`.slice(0, 20_000);
  const arabic = sample.match(ARABIC_LETTER)?.length ?? 0;
  const latin = sample.match(LATIN_LETTER)?.length ?? 0;
  return arabic > latin ? 'ar' : 'sv';
}
