/**
 * Which FAQ articles an agent's reply links to, for "most used in replies".
 *
 * An article's public page is `<publicUrl>/fragor/<category>/<slug>`; a reply
 * may hold that absolute address (as "Infoga i svaret" writes it) or the
 * relative path. A link ends where the slug ends: a query string, a fragment,
 * a closing slash or the sentence's punctuation after it do not matter, but a
 * slug that runs on into more of a path ("…/slug.html", "…/slug/more") is not
 * an article's address. Addresses on other hosts are not ours and are ignored.
 */
import type { Knex } from 'knex';
import type { ReplyUseStore } from './reply-uses-store.js';

export interface ArticleLink {
  category: string;
  slug: string;
}

/** More than this many different articles in one reply is not a reply: the rest are ignored. */
export const MAX_LINKS_PER_REPLY = 20;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Before a link: the start or anything that cannot be part of an address, so
 * "https://elsewhere.example/fragor/…" does not count as our relative path.
 * After the slug: an optional "/", then the end, a query, a fragment, space,
 * or punctuation that ends a sentence (not followed by more address).
 */
function linkPattern(publicUrl: string): RegExp {
  const base = escapeRegExp(publicUrl.replace(/\/+$/, ''));
  return new RegExp(
    String.raw`(?<![\w.~%@:/-])(?:${base})?/fragor/([a-z0-9][a-z0-9-]{0,59})/([a-z0-9][a-z0-9-]{0,118})` +
      String.raw`(?=/?(?:$|[?#\s]|[.,;:!)\]}>'"»”’]+(?:$|[\s.,;:!)\]}>'"»”’])))`,
    'g',
  );
}

/** The distinct article links in a reply's text, in the order they first appear. */
export function findArticleLinks(body: string, publicUrl: string): ArticleLink[] {
  const found = new Map<string, ArticleLink>();
  for (const m of body.matchAll(linkPattern(publicUrl))) {
    const category = m[1]!;
    const slug = m[2]!;
    const key = `${category}/${slug}`;
    if (!found.has(key)) found.set(key, { category, slug });
    if (found.size >= MAX_LINKS_PER_REPLY) break;
  }
  return [...found.values()];
}

/** What the cases service calls with each agent reply, inside the reply's transaction. */
export function createReplyUseRecorder(deps: { store: Pick<ReplyUseStore, 'insertForReply'>; publicUrl: string }) {
  return {
    /** Records the FAQ articles the reply links to; answers their ids (none for a reply without links). */
    record: (trx: Knex.Transaction, reply: { caseId: number; messageId: number; userId: number; body: string }): Promise<number[]> =>
      deps.store.insertForReply(trx, { caseId: reply.caseId, messageId: reply.messageId, userId: reply.userId, links: findArticleLinks(reply.body, deps.publicUrl) }),
  };
}

export type ReplyUseRecorder = ReturnType<typeof createReplyUseRecorder>;
