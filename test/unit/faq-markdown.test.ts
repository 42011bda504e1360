import { strict as assert } from 'node:assert';
import { markdownToText, renderMarkdown } from '../../server/faq/markdown.js';

/**
 * FAQ articles are Markdown written by editors and shown to residents as
 * HTML. Whatever an article holds, what reaches the page is only the
 * elements and attributes we chose, and no link that runs script.
 */

const ALLOWED: Record<string, string[]> = {
  p: [],
  br: [],
  h2: [],
  h3: [],
  h4: [],
  ul: [],
  ol: ['start'],
  li: [],
  strong: [],
  em: [],
  a: ['href', 'rel'],
  blockquote: [],
  code: [],
  pre: [],
  hr: [],
  table: [],
  thead: [],
  tbody: [],
  tr: [],
  th: ['scope'],
  td: [],
};
const SAFE_SCHEMES = ['http', 'https', 'mailto', 'tel'];

interface Tag {
  name: string;
  attrs: Record<string, string>;
  raw: string;
}

/** What a browser would read from an attribute value: character references decoded. */
export function decodeAttribute(value: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", colon: ':', tab: '\t', newline: '\n', sol: '/' };
  return value.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);?/gi, (m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return named[e.toLowerCase()] ?? m;
  });
}

/**
 * The tags of sanitize-html's output. It quotes every attribute value with
 * double quotes and escapes `<` in text, so every `<` starts a tag: one that
 * does not parse as one fails the test.
 */
function tagsOf(html: string): Tag[] {
  const tags: Tag[] = [];
  let at = 0;
  for (;;) {
    const lt = html.indexOf('<', at);
    if (lt < 0) return tags;
    const m = /^<\/?([a-z][a-z0-9]*)((?:\s+[a-z-]+(?:="[^"]*")?)*)\s*\/?>/i.exec(html.slice(lt));
    assert.ok(m, `a "<" that does not start a well-formed tag at ${lt}: ${JSON.stringify(html.slice(lt, lt + 80))}`);
    const attrs: Record<string, string> = {};
    for (const a of m[2]!.matchAll(/([a-z-]+)(?:="([^"]*)")?/gi)) attrs[a[1]!.toLowerCase()] = decodeAttribute(a[2] ?? '');
    if (!m[0].startsWith('</')) tags.push({ name: m[1]!.toLowerCase(), attrs, raw: m[0] });
    at = lt + m[0].length;
  }
}

/** The scheme a browser would see in an href (it drops ASCII whitespace and controls inside it). */
function schemeOf(href: string): string | undefined {
  const cleaned = href.replace(/[\u0000-\u0020\u007f]/g, '');
  return /^([a-z][a-z0-9+.-]*):/i.exec(cleaned)?.[1]?.toLowerCase();
}

/** Fails unless the HTML holds only allowed elements and attributes, and links with safe schemes. */
function assertInert(html: string, what: string): Tag[] {
  const tags = tagsOf(html);
  for (const tag of tags) {
    assert.ok(tag.name in ALLOWED, `${what}: element <${tag.name}> is not allowed: ${tag.raw}\n${html}`);
    for (const attr of Object.keys(tag.attrs)) {
      assert.ok(ALLOWED[tag.name]!.includes(attr), `${what}: attribute ${attr} on <${tag.name}> is not allowed: ${tag.raw}\n${html}`);
    }
    if (tag.name === 'a' && 'href' in tag.attrs) {
      const href = tag.attrs.href!;
      const scheme = schemeOf(href);
      assert.ok(scheme === undefined || SAFE_SCHEMES.includes(scheme), `${what}: a link with the scheme ${scheme}: ${tag.raw}`);
      assert.ok(!/^\s*\/\//.test(href) && !/^\s*\\/.test(href), `${what}: a protocol-relative link: ${tag.raw}`);
      if (scheme === 'http' || scheme === 'https') assert.equal(tag.attrs.rel, 'noopener noreferrer', `${what}: an outside link without rel: ${tag.raw}`);
    }
  }
  return tags;
}

const links = (tags: Tag[]) => tags.filter((t) => t.name === 'a');

/** Markdown that tries to put script, handlers or dangerous links on the page. */
const CORPUS: [string, string][] = [
  ['a script element', '<script>alert(1)</script>'],
  ['a script element inside a paragraph', 'Hej <script src="https://evil.example/x.js"></script> då'],
  ['raw HTML with a handler', '<img src=x onerror=alert(1)>'],
  ['raw HTML block', '<div onclick="alert(1)">\n\n**fet**\n\n</div>'],
  ['svg with onload', '<svg onload=alert(1)><circle r=1 /></svg>'],
  ['an iframe', '<iframe src="javascript:alert(1)"></iframe>'],
  ['a style element', '<style>body{background:url(javascript:alert(1))}</style>'],
  ['a form', '<form action="javascript:alert(1)"><button>Skicka</button></form>'],
  ['an HTML comment and CDATA', '<!-- <script>alert(1)</script> --> <![CDATA[<script>alert(1)</script>]]>'],
  ['a raw anchor', '<a href="javascript:alert(1)">klicka</a>'],
  ['an inline javascript: link', '[klicka](javascript:alert(1))'],
  ['an upper-case scheme', '[klicka](JAVASCRIPT:alert(1))'],
  ['a mixed-case scheme with spaces', '[klicka](  JaVaScRiPt:alert(1) )'],
  ['a scheme in angle brackets', '[klicka](<javascript:alert(1)>)'],
  ['a tab inside the scheme', '[klicka](java\tscript:alert(1))'],
  ['an escaped newline in the scheme', '[klicka](java\\\nscript:alert(1))'],
  ['a vbscript: link', '[klicka](vbscript:msgbox(1))'],
  ['a data:text/html link', '[klicka](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)'],
  ['a data:image link', '[klicka](data:image/png;base64,iVBORw0KGgo=)'],
  ['a file: link', '[klicka](file:///etc/passwd)'],
  ['a protocol-relative link', '[klicka](//evil.example/x)'],
  ['a reference link to javascript:', '[klicka][x]\n\n[x]: javascript:alert(1)'],
  ['a reference link in angle brackets with a title', '[klicka][x]\n\n[x]: <javascript:alert(1)> "titel"'],
  ['a collapsed reference link to vbscript:', '[klicka][]\n\n[klicka]: vbscript:msgbox(1)'],
  ['a shortcut reference link to data:', '[klicka]\n\n[klicka]: data:text/html,<script>alert(1)</script>'],
  ['an autolink to javascript:', '<javascript:alert(1)>'],
  ['an autolink to vbscript:', '<vbscript:msgbox(1)>'],
  ['an autolink to data:', '<data:text/html,<script>alert(1)</script>>'],
  ['a bare javascript: text (linkify)', 'Gå till javascript:alert(1) nu'],
  ['an entity-encoded scheme (hex)', '[klicka](jav&#x61;script:alert(1))'],
  ['an entity-encoded scheme (decimal)', '[klicka](&#106;avascript:alert(1))'],
  ['an entity-encoded colon', '[klicka](javascript&colon;alert(1))'],
  ['an entity-encoded tab in the scheme', '[klicka](java&Tab;script:alert(1))'],
  ['an entity-encoded scheme in a reference', '[klicka][x]\n\n[x]: jav&#x61;script:alert(1)'],
  ['a percent-encoded scheme', '[klicka](java%73cript:alert(1))'],
  ['an attribute through a double-quoted title', '[klicka](https://example.se "x\\" onmouseover=\\"alert(1)")'],
  ['an attribute through a single-quoted title', "[klicka](https://example.se 'x\" onclick=\"alert(1)')"],
  ['an attribute through a parenthesised title', '[klicka](https://example.se (x" onfocus="alert(1)" autofocus="))'],
  ['an attribute through a reference title', '[klicka][x]\n\n[x]: https://example.se "x\\" onclick=\\"alert(1)"'],
  ['a quote inside the address', '[klicka](https://example.se/"onmouseover="alert(1))'],
  ['HTML in a heading', '# <script>alert(1)</script> Rubrik\n\n## <img src=x onerror=alert(1)> Underrubrik'],
  ['HTML in a setext heading', '<b onclick=alert(1)>Rubrik</b>\n==='],
  ['HTML in inline code', 'Skriv `<script>alert(1)</script>` här'],
  ['HTML in a fenced code block', '```html\n<script>alert(1)</script>\n<img src=x onerror=alert(1)>\n```'],
  ['a hostile info string', '```"><script>alert(1)</script>\nkod\n```'],
  ['HTML in an indented code block', '    <script>alert(1)</script>'],
  ['an image to javascript:', '![bild](javascript:alert(1))'],
  ['an image with a handler in its title', '![bild](https://example.se/x.png "x\\" onerror=\\"alert(1)")'],
  ['HTML in link text', '[<img src=x onerror=alert(1)>](https://example.se)'],
  ['a link in a table cell', '| a | b |\n|---|---|\n| [x](javascript:alert(1)) | <script>alert(1)</script> |'],
  ['a link in a list and a quote', '- [x](javascript:alert(1))\n\n> [y](vbscript:msgbox(1))'],
  ['an email autolink with a handler', '<a@b.se" onclick="alert(1)>'],
];

describe('FAQ Markdown (renderMarkdown)', () => {
  describe('an XSS corpus: nothing outside the allowlist survives', () => {
    for (const [what, source] of CORPUS) {
      it(what, () => {
        const html = renderMarkdown(source);
        assertInert(html, what);
        assert.doesNotMatch(html, /<script/i, `${what}: a script element`);
      });
    }
  });

  it('no link of the corpus keeps a dangerous scheme, even when the whole corpus is one article', () => {
    const html = renderMarkdown(CORPUS.map(([, s]) => s).join('\n\n'));
    const tags = assertInert(html, 'the whole corpus');
    const hrefs = links(tags).map((a) => a.attrs.href ?? '');
    assert.ok(hrefs.length >= 5, 'the safe links of the corpus are still links');
    for (const href of hrefs) assert.ok(!['javascript', 'vbscript', 'data', 'file'].includes(schemeOf(href) ?? ''), href);
  });

  it('keeps safe links: outside ones with rel, mailto, tel and links within the site', () => {
    const html = renderMarkdown(
      '[Skatteverket](https://www.skatteverket.se/) [mejla](mailto:kontakt@borlange.example) [ring](tel:+46243740000) [bygglov](/fragor/bygglov) <https://www.boverket.se>',
    );
    const found = links(assertInert(html, 'safe links')).map((a) => a.attrs);
    assert.deepEqual(found, [
      { href: 'https://www.skatteverket.se/', rel: 'noopener noreferrer' },
      { href: 'mailto:kontakt@borlange.example' },
      { href: 'tel:+46243740000' },
      { href: '/fragor/bygglov' },
      { href: 'https://www.boverket.se', rel: 'noopener noreferrer' },
    ]);
  });

  it('keeps the structure an article needs, with its headings below the page title', () => {
    const html = renderMarkdown('# Rubrik\n\nText med **fet** och *kursiv*.\n\n## Del\n\n3. tre\n4. fyra\n\n- a\n- b\n\n> citat\n\n---\n\n| A | B |\n|---|---|\n| 1 | 2 |');
    const names = new Set(assertInert(html, 'structure').map((t) => t.name));
    for (const tag of ['h2', 'p', 'strong', 'em', 'ol', 'ul', 'li', 'blockquote', 'hr', 'table', 'th', 'td']) assert.ok(names.has(tag), `<${tag}> in ${html}`);
    assert.ok(!names.has('h1'), 'an article heading never competes with the page h1');
    assert.match(html, /<ol start="3">/);
  });

  it('shows raw HTML as text, not as markup', () => {
    const html = renderMarkdown('<b>fet</b> & <i>kursiv</i>');
    assert.equal(html.trim(), '<p>&lt;b&gt;fet&lt;/b&gt; &amp; &lt;i&gt;kursiv&lt;/i&gt;</p>');
  });
});

describe('FAQ Markdown as plain text (markdownToText)', () => {
  it('writes list items on their own lines', () => {
    assert.equal(markdownToText('Du behöver:\n\n- ritningar\n- en situationsplan\n- **kontrollplan**'), 'Du behöver:\n\n- ritningar\n- en situationsplan\n- kontrollplan');
  });

  it('writes numbered list items on their own lines too', () => {
    assert.equal(markdownToText('1. Ansök\n2. Vänta på beslut'), '- Ansök\n- Vänta på beslut');
  });

  it('writes links as "text (address)" and a bare address once', () => {
    assert.equal(
      markdownToText('Läs mer hos [Boverket](https://www.boverket.se/) eller på https://www.borlange.se.'),
      'Läs mer hos Boverket (https://www.boverket.se/) eller på https://www.borlange.se.',
    );
  });

  it('keeps paragraphs and headings apart and decodes characters', () => {
    assert.equal(markdownToText('# Avgifter\n\nMaxtaxa 2026 & fler <regler>.\n\nAndra stycket.'), 'Avgifter\n\nMaxtaxa 2026 & fler <regler>.\n\nAndra stycket.');
  });

  it('leaves a refused link and raw HTML as the plain text they were written as', () => {
    // A plain-text mail runs nothing: the refused link is shown as its source, not as an address.
    assert.equal(markdownToText('[klicka](javascript:alert(1)) och <script>alert(1)</script>'), '[klicka](javascript:alert(1)) och <script>alert(1)</script>');
  });
});
