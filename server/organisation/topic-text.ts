import { hasKey, translate } from '../platform/i18n.js';

interface Topic {
  slug: string;
  name_sv: string;
  name_en: string;
  description_sv?: string | null;
  description_en?: string | null;
}

/**
 * A topic's name and description as a resident reads them. Topics are named
 * in Swedish and English by the administrators; in Arabic the locale file
 * names the topics every installation starts with (topic.<slug>.name), and a
 * topic added later reads in Swedish.
 */
export function topicText(c: Topic, lang: string): { name: string; description: string | null } {
  if (lang === 'sv') return { name: c.name_sv, description: c.description_sv ?? null };
  if (lang === 'en') return { name: c.name_en, description: c.description_en ?? null };
  const key = `topic.${c.slug}`;
  return {
    name: hasKey(lang, `${key}.name`) ? translate(lang, `${key}.name`) : c.name_sv,
    description: hasKey(lang, `${key}.description`) ? translate(lang, `${key}.description`) : (c.description_sv ?? null),
  };
}
