import type { Request } from 'express';
import { NotFoundError } from '../platform/errors.js';
import { translate } from '../platform/i18n.js';
import type { RouteDef } from '../platform/routing.js';
import type { Services } from '../services.js';
import { accessorOf } from '../privacy/access-log.js';
import { rawHeaderField } from './raw-headers.js';

const idOf = (req: Request) => {
  const id = Number(req.params.id);
  if (!Number.isSafeInteger(id) || id <= 0) throw new NotFoundError('No such message');
  return id;
};

/** The header fields worth showing an admin deciding what to do with a message. */
function headerSummary(raw: Buffer): { from: string; subject: string; date: string } {
  const field = (name: string) => (rawHeaderField(raw, name) ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 300);
  return { from: field('from'), subject: field('subject'), date: field('date') };
}

/** Admins see mail that could not be processed, and reprocess or discard it. Nothing is deleted. */
export function quarantineRoutes(s: Services): RouteDef[] {
  const { intake } = s;
  return [
    {
      method: 'get',
      path: '/admin/mail',
      access: 'admin',
      summary: 'Quarantined mail',
      handler: async (req, res) => {
        const items = (await intake.store.listQuarantined()).map(({ head, ...r }) => ({ ...r, ...headerSummary(head) }));
        res.render('admin/mail', {
          lang: req.ctx.lang,
          title: translate(req.ctx.lang, 'admin.mail.title'),
          items,
          done: typeof req.query.klart === 'string' ? translate(req.ctx.lang, `admin.mail.done.${req.query.klart === 'discard' ? 'discard' : 'reprocess'}`) : undefined,
        });
      },
    },
    {
      method: 'get',
      path: '/admin/mail/:id/raw',
      access: 'admin',
      summary: 'Download a quarantined message as it arrived',
      handler: async (req, res) => {
        const row = await intake.store.findById(idOf(req));
        if (!row) throw new NotFoundError('No such message');
        await s.accessLog.record(accessorOf(req), 'intake.raw_mail', { caseId: row.case_id ?? null, target: `message-${row.id}.eml`, detail: { inboundMessage: row.id } });
        res.attachment(`message-${row.id}.eml`);
        res.type('message/rfc822');
        res.set({ 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'private, no-store', 'Content-Security-Policy': "default-src 'none'; sandbox" });
        res.send(row.raw);
      },
    },
    {
      method: 'post',
      path: '/admin/mail/:id/reprocess',
      access: 'admin',
      summary: 'Process a quarantined message again',
      handler: async (req, res) => {
        if (!(await intake.store.requeue(idOf(req)))) throw new NotFoundError('No such quarantined message');
        intake.processor.kick();
        res.redirect(303, '/admin/mail?klart=reprocess');
      },
    },
    {
      method: 'post',
      path: '/admin/mail/:id/discard',
      access: 'admin',
      summary: 'Mark a quarantined message as not a case (it is kept)',
      handler: async (req, res) => {
        if (!(await intake.store.discard(idOf(req)))) throw new NotFoundError('No such quarantined message');
        res.redirect(303, '/admin/mail?klart=discard');
      },
    },
  ];
}
