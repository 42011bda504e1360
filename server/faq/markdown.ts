/**
 * FAQ articles are written in Markdown by editors and shown to residents.
 *
 * markdown-it renders CommonMark with raw HTML switched off (a `<script>` in
 * an article is shown as text) and refuses javascript:, vbscript: and most
 * data: links. The result then passes sanitize-html with a short allowlist,
 * so even a rendering bug cannot put an attribute or element we did not
 * choose on a resident's page. Links outside the site open as ordinary links
 * with rel="noopener noreferrer".
 */
import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';

const md = new MarkdownIt({ html: false, linkify: true, typographer: false, breaks: false });
// Images from outside would track readers and may lack a text alternative: articles link instead.
md.disable(['image']);

const SAFE: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'h2', 'h3', 'h4', 'ul', 'ol', 'li', 'strong', 'em', 'a', 'blockquote', 'code', 'pre', 'hr', 'table', 'thead', 'tbody', 'tr', 'th', 'td'],
  allowedAttributes: { a: ['href', 'rel'], th: ['scope'], ol: ['start'] },
  allowedSchemes: ['http', 'https', 'mailto', 'tel'],
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  transformTags: {
    // An article's own headings sit below the page's h1.
    h1: 'h2',
    a: (tagName, attribs) => {
      const href = attribs.href ?? '';
      const out: sanitizeHtml.Attributes = { href };
      if (/^https?:/i.test(href)) out.rel = 'noopener noreferrer';
      return { tagName, attribs: out };
    },
  },
};

/** Safe HTML for an article's Markdown. */
export function renderMarkdown(source: string): string {
  return sanitizeHtml(md.render(source), SAFE);
}

/**
 * The article as plain text, for a reply an agent sends by e-mail: paragraphs
 * and list items on their own lines, links as "text (address)".
 */
export function markdownToText(source: string): string {
  const html = md
    .render(source)
    .replace(/>\n/g, '>')
    .replace(/<a href="([^"]*)">([\s\S]*?)<\/a>/g, (_m, href: string, text: string) => (text === href ? href : `${text} (${href})`))
    .replace(/<li>/g, '- ')
    .replace(/<\/(li|tr)>/g, '\n')
    .replace(/<\/(p|h[1-6]|blockquote|pre|ul|ol)>/g, '\n\n')
    .replace(/<br\s*\/?>/g, '\n');
  const text = sanitizeHtml(html, { allowedTags: [], allowedAttributes: {} });
  return decodeEntities(text)
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function decodeEntities(s: string): string {
  return s.replace(/&(lt|gt|quot|#39|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]!);
}
