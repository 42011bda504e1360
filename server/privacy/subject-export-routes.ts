import type { Request, Response } from 'express';
import { ValidationError } from '../platform/errors.js';
import { translate } from '../platform/i18n.js';
import type { RouteDef } from '../platform/routing.js';
import { errorSummary } from '../platform/validation.js';
import type { Services } from '../services.js';
import { accessorOf } from './access-log.js';
import { describeSubject } from './subject-export.js';

const PAGE = '/agent/registerutdrag';

/**
 * The data-subject export (registerutdrag) for managers and admins: a form
 * (e-mail address or phone number) whose answer is the ZIP file itself, or
 * the form again saying that nothing is stored about that person.
 */
export function subjectExportRoutes(s: Services): RouteDef[] {
  const { subjectExport, accessLog } = s;

  function form(req: Request, res: Response, status: number, extra: { errors?: Record<string, string>; errorList?: { href: string; message: string }[]; notFound?: string; refused?: string } = {}) {
    const lang = req.ctx.lang;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const value = (k: string) => (typeof body[k] === 'string' ? body[k] : '');
    res.status(status).render('privacy/subject-export', {
      lang,
      title: translate(lang, 'subject_export.title'),
      form: { email: value('email'), phone: value('phone') },
      errors: extra.errors ?? {},
      errorList: extra.errorList ?? [],
      notFound: extra.notFound,
      refused: extra.refused,
    });
  }

  return [
    {
      method: 'get',
      path: PAGE,
      access: 'manager',
      summary: 'The data-subject export: the form',
      handler: (req, res) => form(req, res, 200),
    },
    {
      method: 'post',
      path: PAGE,
      access: 'manager',
      summary: 'The data-subject export: everything about an e-mail address or phone number, as one ZIP file',
      handler: async (req, res) => {
        const lang = req.ctx.lang;
        let subject;
        try {
          subject = subjectExport.parse(req.body);
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          return form(req, res, 400, errorSummary(err, lang, ['email', 'phone']));
        }
        const target = describeSubject(subject);
        const exp = await subjectExport.prepare(subject);
        // Protected identity: the export would show the person's contact details, so only a permitted user may take it out.
        if (exp?.protectedIdentity && !(req.ctx.user!.seesProtected ?? (await s.protectedIdentity.seesProtected(req.ctx.user!.id)))) {
          await accessLog.record(accessorOf(req), 'subject.export', { target, detail: { found: true, refused: 'protected_identity' } });
          return form(req, res, 403, { refused: translate(lang, 'subject_export.protected') });
        }
        // A search that found nothing still looked for a person: it is recorded too.
        await accessLog.record(accessorOf(req), 'subject.export', {
          target,
          detail: exp ? { found: true, cases: exp.caseCount, files: exp.fileCount } : { found: false },
        });
        if (!exp) return form(req, res, 200, { notFound: translate(lang, 'subject_export.none', { subject: target }) });
        res.setHeader('Content-Type', 'application/zip');
        res.setHeader('Content-Disposition', `attachment; filename="${subjectExport.filename(exp)}"`);
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.setHeader('Cache-Control', 'private, no-store');
        await subjectExport.write(exp, res);
      },
    },
  ];
}
