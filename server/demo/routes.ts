import { NotFoundError } from '../platform/errors.js';
import { translate } from '../platform/i18n.js';
import type { RouteDef } from '../platform/routing.js';
import type { Services } from '../services.js';

/**
 * Only in the embedded demo without SMTP: the mail that would have gone out,
 * so someone trying the service can follow the link in their acknowledgement.
 */
export function demoRoutes(s: Services): RouteDef[] {
  const { mail } = s;
  return [
    {
      method: 'get',
      path: '/demo/outbox',
      access: 'public',
      summary: 'Demo: outgoing mail',
      handler: async (req, res) => {
        res.set('Cache-Control', 'no-store');
        res.render('demo/outbox', { lang: req.ctx.lang, title: translate(req.ctx.lang, 'demo.outbox.title'), mails: await mail.store.listRecent(100) });
      },
    },
    {
      method: 'get',
      path: '/demo/outbox/:id',
      access: 'public',
      summary: 'Demo: one outgoing mail',
      handler: async (req, res) => {
        const id = Number(req.params.id);
        const row = Number.isSafeInteger(id) && id > 0 ? await mail.store.findById(id) : undefined;
        if (!row) throw new NotFoundError('No such mail');
        res.set('Cache-Control', 'no-store');
        // Links to this service, so the demo can follow a resident's link straight from the mail.
        const links = [...new Set(row.text_body.match(/https?:\/\/[^\s<>"]+/g) ?? [])].filter((u) => u.startsWith(s.config.publicUrl));
        res.render('demo/mail', { lang: req.ctx.lang, title: row.subject, mail: row, links });
      },
    },
  ];
}
