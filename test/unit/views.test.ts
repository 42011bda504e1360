import { strict as assert } from 'node:assert';
import { Views } from '../../server/platform/views.js';

describe('views', () => {
  const views = new Views();

  it('a multi-line value shown again in a field partial included on an indented line keeps its lines as typed', () => {
    const html = views.page('agent/register', { lang: 'sv', values: { summary: 'rad ett\nrad två' }, errors: {}, layout: false });
    const textarea = /<textarea[^>]*name="summary"[^>]*>([\s\S]*?)<\/textarea>/.exec(html)?.[1];
    assert.equal(textarea, 'rad ett\nrad två');
  });
});
