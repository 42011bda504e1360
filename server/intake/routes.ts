import type { Request, Response } from 'express';
import { ALLOWED_EXTENSIONS } from '../attachments/service.js';
import { EMAIL_MAX, MESSAGE_MAX, NAME_MAX, SUBJECT_MAX } from '../cases/schemas.js';
import { AppError, NotFoundError, ValidationError } from '../platform/errors.js';
import { orRerender } from '../platform/forms.js';
import { setPageLanguage } from '../platform/http.js';
import { isLanguage, translate, type Language } from '../platform/i18n.js';
import { topicText } from '../organisation/topic-text.js';
import { limitPerWindow } from '../platform/rate-limit.js';
import type { RouteDef } from '../platform/routing.js';
import { describeSize, discardUploads, filesOf, sendAttachment, uploadMiddleware } from '../platform/uploads.js';
import { describeError, localizeFieldErrors } from '../platform/validation.js';
import type { Services } from '../services.js';

/** A resident link is 32 random bytes in base64url; anything else is not worth a query. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

const FORM_FIELDS = ['name', 'personnummer', 'email', 'phone', 'category', 'subject', 'message'] as const;

/** What a resident sees of their callback: the number, the window and how it went; never who called. */
function residentCallback(cb: { status: string; phone: string; window_start: Date; window_end: Date } | undefined) {
  return cb && { status: cb.status, phone: cb.phone, start: cb.window_start, end: cb.window_end };
}

/** The resident's side: the start page, the contact form, the receipt and the case link. */
export function intakeRoutes(s: Services): RouteDef[] {
  const { config, cases, organisation, attachments } = s;
  const upload = uploadMiddleware(config, 'attachments', { name: NAME_MAX, subject: SUBJECT_MAX, email: EMAIL_MAX, message: MESSAGE_MAX });
  const intakeLimit = limitPerWindow(config.rateLimits.intakePerWindow, config.rateLimits.windowMs, 'contact requests');

  const uploadHints = (lang: string) => ({
    hint: translate(lang, 'form.attachments.hint', {
      types: ALLOWED_EXTENSIONS.join(', '),
      max: describeSize(config.uploads.maxBytes),
      count: config.uploads.maxFiles,
    }),
  });

  async function topics(lang: string) {
    const rows = await organisation.listCategories({ activeOnly: true });
    return rows.map((c) => ({ slug: c.slug, asksPersonnummer: c.asks_personnummer, ...topicText(c, lang) }));
  }

  /**
   * The personnummer field, when any topic asks for one. It is always in the
   * page and says which topics it is for, so the form works without the
   * script; the script hides it while another topic is chosen.
   */
  function personnummerField(topicList: { slug: string; name: string; asksPersonnummer: boolean }[], lang: string) {
    const asking = topicList.filter((t) => t.asksPersonnummer);
    if (!asking.length) return undefined;
    const names = new Intl.ListFormat(lang, { type: 'disjunction' }).format(asking.map((t) => t.name));
    return { slugs: asking.map((t) => t.slug).join(' '), hint: translate(lang, 'form.personnummer.hint', { topics: names }) };
  }

  /**
   * A resident's pages of their case are in the language chosen in this
   * browser (?lang= or the cookie); with no choice, in the case's language,
   * so a link opened on another device reads as the case was written.
   */
  function languageFor(req: Request, res: Response, c: { language: string }): Language {
    if (req.ctx.langChosen || !isLanguage(c.language)) return req.ctx.lang;
    return setPageLanguage(req, res, c.language);
  }

  /** Choosing a language on a page of the case (its language links) makes it the case's language, for its pages and mail. */
  async function keepChosenLanguage(req: Request, token: string): Promise<void> {
    if (req.ctx.langChosen === 'query' && !req.ctx.user && TOKEN.test(token)) await cases.setResidentLanguage(token, req.ctx.lang);
  }

  async function renderForm(req: Request, res: Response, status: number, values: Record<string, unknown>, error?: ValidationError) {
    const lang = req.ctx.lang;
    const errors = error ? localizeFieldErrors(error.fields, lang) : {};
    const topicList = await topics(lang);
    // Each summary entry links to the control to fix; a topic error to the first choice.
    const order = (field: string) => ['category', ...FORM_FIELDS, 'attachments'].indexOf(field);
    const errorList = error
      ? [...error.fields].sort((a, b) => order(a.field) - order(b.field)).map((f) => ({
          href: f.field === 'category' ? `#topic-${topicList[0]?.slug ?? ''}` : `#f-${FORM_FIELDS.includes(f.field as never) || f.field === 'attachments' ? f.field : 'message'}`,
          message: errors[f.field],
        }))
      : [];
    res.status(status).render('resident/contact', {
      lang,
      title: translate(lang, 'form.title'),
      topics: topicList,
      personnummerField: personnummerField(topicList, lang),
      values,
      errors,
      errorList,
      hasErrors: errorList.length > 0,
      uploads: uploadHints(lang),
      messageMax: MESSAGE_MAX,
      // One visit of the form, for the FAQ suggestions; kept when the form comes back with errors.
      faqVisit: s.faqDeflection.visitToken((req.body as Record<string, unknown> | undefined)?.faq_visit),
      pageScript: true,
    });
  }

  async function caseByToken(token: string) {
    if (!TOKEN.test(token)) throw new NotFoundError('No such case');
    return cases.getForResident(token);
  }

  async function renderCase(req: Request, res: Response, token: string, status = 200, extra: Record<string, unknown> = {}) {
    const liveCursor = await s.live.cursor();
    const view = await caseByToken(token);
    const lang = languageFor(req, res, view.case);
    const callback = residentCallback(await s.callbacks.forCase(view.case.id));
    const files = view.attachments.map((a) => ({ ...a, url: `/arende/${token}/bilagor/${a.public_id}` }));
    const byMessage = new Map<number, typeof files>();
    for (const f of files) byMessage.set(f.message_id!, [...(byMessage.get(f.message_id!) ?? []), f]);
    res.set({ 'Cache-Control': 'no-store', 'X-Robots-Tag': 'noindex' });
    res.status(status).render('resident/case', {
      lang,
      live: true,
      liveCursor,
      title: translate(lang, 'case.title', { reference: view.case.reference }),
      c: view.case,
      categoryName: topicText({ slug: String(view.case.category), name_sv: String(view.case.category_name_sv), name_en: String(view.case.category_name_en) }, lang).name,
      conversation: view.conversation.map((e) => ({ ...e, fromResident: e.message_kind === 'resident', files: byMessage.get(e.message_id!) ?? [] })),
      canReply: view.case.status !== 'closed',
      callback,
      token,
      uploads: uploadHints(lang),
      ...extra,
    });
  }

  return [
    {
      method: 'get',
      path: '/',
      access: 'public',
      summary: 'Start page: topics and ways to get in touch',
      handler: async (req, res) => {
        res.render('resident/home', { lang: req.ctx.lang, title: translate(req.ctx.lang, 'home.title'), topics: await topics(req.ctx.lang) });
      },
    },
    {
      method: 'get',
      path: '/kontakt',
      access: 'public',
      summary: 'The contact form',
      handler: async (req, res) => {
        const topic = typeof req.query.amne === 'string' ? req.query.amne : undefined;
        await renderForm(req, res, 200, { category: topic });
      },
    },
    {
      method: 'post',
      path: '/kontakt',
      access: 'public',
      before: [intakeLimit, upload],
      summary: 'Submit the contact form',
      handler: async (req, res) => {
        const body = req.body as Record<string, unknown>;
        const values = Object.fromEntries(FORM_FIELDS.map((f) => [f, typeof body[f] === 'string' ? body[f] : '']));
        if (req.uploadError) return renderForm(req, res, 400, values, req.uploadError);
        await orRerender(
          async () => {
            const created = await cases.createCase(values, { channel: 'web', files: filesOf(req), language: req.ctx.lang });
            // After the case is saved, and never failing it: sent anyway after opening a suggestion.
            await s.faqDeflection.markSubmitted(body.faq_visit, created.id);
            res.redirect(303, `/kvitto/${created.token}`);
          },
          (error) => renderForm(req, res, 400, values, error),
          { onError: () => discardUploads(req) },
        );
      },
    },
    {
      method: 'get',
      path: '/kvitto/:token',
      access: 'resident-link',
      summary: 'Receipt after submitting',
      handler: async (req, res) => {
        const token = String(req.params.token);
        await keepChosenLanguage(req, token);
        const view = await caseByToken(token);
        const lang = languageFor(req, res, view.case);
        const callback = residentCallback(await s.callbacks.forCase(view.case.id));
        res.set({ 'Cache-Control': 'no-store', 'X-Robots-Tag': 'noindex' });
        res.render('resident/receipt', {
          lang,
          title: translate(lang, callback ? 'receipt.callback_title' : 'receipt.title'),
          c: view.case,
          callback,
          link: `${config.publicUrl}/arende/${token}`,
          mailed: Boolean(view.case.resident_email),
          // Clears what the contact form kept for the resident while they read a suggestion.
          pageScript: true,
        });
      },
    },
    {
      method: 'get',
      path: '/arende/:token',
      access: 'resident-link',
      summary: "The resident's view of their case",
      handler: async (req, res) => {
        const token = String(req.params.token);
        await keepChosenLanguage(req, token);
        await renderCase(req, res, token, 200, { sent: req.query.skickat === '1' });
      },
    },
    {
      method: 'post',
      path: '/arende/:token',
      access: 'resident-link',
      before: [intakeLimit, upload],
      summary: 'A follow-up message from the resident',
      handler: async (req, res) => {
        const token = String(req.params.token);
        const message = typeof req.body?.message === 'string' ? req.body.message : '';
        const fail = (err: ValidationError | AppError, status: number) =>
          renderCase(req, res, token, status, {
            message,
            errors: err instanceof ValidationError ? localizeFieldErrors(err.fields, req.ctx.lang) : { message: describeError(err, req.ctx.lang) },
            hasErrors: true,
          });
        if (!TOKEN.test(token)) throw new NotFoundError('No such case');
        if (req.uploadError) return fail(req.uploadError, 400);
        try {
          await cases.addResidentMessage(token, { message }, filesOf(req));
          res.redirect(303, `/arende/${token}?skickat=1#conversation`);
        } catch (err) {
          await discardUploads(req);
          if (err instanceof ValidationError) return fail(err, 400);
          if (err instanceof AppError && err.status === 409) return fail(err, 409);
          throw err;
        }
      },
    },
    {
      method: 'get',
      path: '/arende/:token/bilagor/:publicId',
      access: 'resident-link',
      summary: 'Download a file from the conversation',
      handler: async (req, res) => {
        const view = await caseByToken(String(req.params.token));
        const row = view.attachments.find((a) => a.public_id === req.params.publicId);
        if (!row || !(await attachments.exists(row))) throw new NotFoundError('No such file');
        sendAttachment(res, row, attachments.pathOf(row.storage_key));
      },
    },
  ];
}
