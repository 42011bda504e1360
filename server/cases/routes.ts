import { maskPersonnummer } from '../privacy/personnummer.js';
import type { Request, Response } from 'express';
import { AppError, NotFoundError, ValidationError } from '../platform/errors.js';
import { translate } from '../platform/i18n.js';
import type { RouteDef } from '../platform/routing.js';
import { sendAttachment } from '../platform/uploads.js';
import { describeError, localizeFieldErrors } from '../platform/validation.js';
import type { Services } from '../services.js';
import { allowedTransitions, CHANNELS, STATUSES, type CaseStatus } from './lifecycle.js';
import { describeEvent } from './timeline.js';
import { hasRole } from '../auth/roles.js';
import { PRESENCE_STATUSES } from '../live/protocol.js';
import type { Language } from '../platform/i18n.js';
import { describeCounts, waitingFor } from '../queue/service.js';
import { CALLBACK_RESULTS } from '../callbacks/store.js';
import { referenceParam } from './reference.js';
import { agentFaqPanel } from '../faq/agent-panel.js';
import { accessorOf } from '../privacy/access-log.js';
import { protectedCaseView } from '../privacy/protected-view.js';


type CaseAction = 'reply' | 'note' | 'status' | 'assign' | 'forward' | 'callback' | 'identity' | 'hold' | 'release';

/** Where each action's fields sit on the case page, for the error summary's links. */
const FIELD_IDS: Record<CaseAction, Record<string, string>> = {
  reply: { body: 'f-body', status: 'f-reply-status' },
  note: { body: 'f-note-body' },
  status: { status: 'f-status' },
  assign: { assigneeId: 'f-assignee' },
  forward: { department: 'f-department', note: 'f-note' },
  callback: { result: 'f-callback-result-reached', note: 'f-callback-note', resolve: 'f-callback-resolve' },
  identity: { confirm: 'f-identity-confirm' },
  hold: { reason: 'f-hold-reason' },
  release: { reason: 'f-release-reason' },
};
const SECTION_IDS: Record<CaseAction, string> = {
  reply: 'reply-title',
  note: 'note-title',
  status: 'status-title',
  assign: 'assign-title',
  forward: 'forward-title',
  callback: 'callback-title',
  identity: 'identity-title',
  hold: 'legal-hold-title',
  release: 'legal-hold-title',
};

/** Where the page opens after an action went through: the part of the case it changed. */
const DONE_ANCHORS: Record<CaseAction, string> = {
  reply: 'timeline',
  note: 'timeline',
  status: 'actions',
  assign: 'actions',
  forward: 'actions',
  callback: SECTION_IDS.callback,
  identity: SECTION_IDS.identity,
  hold: 'legal-hold',
  release: 'legal-hold',
};

/** The failed action, summarised at the top of the page with links to what to fix. */
function failureSummary(action: CaseAction, error: AppError, lang: string) {
  const items =
    error instanceof ValidationError
      ? error.fields.map((f) => ({ href: `#${FIELD_IDS[action][f.field] ?? SECTION_IDS[action]}`, message: translate(lang, f.code, f.params ?? {}) }))
      : [{ href: `#${SECTION_IDS[action]}`, message: describeError(error, lang) }];
  return { title: translate(lang, `agent.failed.${action}`), items };
}

/** The agent's pages: the queue and a case with its timeline and actions. */
export function caseRoutes(s: Services): RouteDef[] {
  const { cases, organisation, auth, attachments } = s;


  async function renderCase(req: Request, res: Response, status = 200, form?: { action: CaseAction; error: AppError; values: Record<string, unknown> }) {
    const lang = req.ctx.lang;
    const ref = referenceParam(req);
    // Read before the case: the page then holds every event up to here, and live updates resume after it.
    const liveCursor = await s.live.cursor();
    const [view, users, departments, undeliveredMail] = await Promise.all([
      cases.getForAgent(ref),
      auth.listActiveAgents(),
      organisation.listDepartments({ activeOnly: true }),
      s.mail.store.listForCase(ref, { undeliveredOnly: true }),
    ]);
    // Protected identity: the resident's details only to those allowed (logged), apart from the live-updated panel.
    const pv = await protectedCaseView(s.protectedIdentity, accessorOf(req), { case: view.case, callback: await s.callbacks.forCase(view.case.id), undeliveredMail }, lang);
    const callback = pv.callback;
    const byMessage = new Map<number, typeof view.attachments>();
    for (const a of view.attachments) if (a.message_id) byMessage.set(a.message_id, [...(byMessage.get(a.message_id) ?? []), a]);
    const c = pv.case;
    // Remote images in mail only when the agent asks (they tell the sender the mail was read).
    const remoteImages = req.query.bilder === '1';
    if (remoteImages) res.setHeader('Content-Security-Policy', String(res.getHeader('Content-Security-Policy') ?? '').replace("img-src 'self' data:", "img-src 'self' data: https:"));
    const errors = form?.error instanceof ValidationError ? localizeFieldErrors(form.error.fields, lang) : {};
    const faq = await agentFaqPanel(s.faqReplies, req.query.faq, c.language, lang);
    // Every showing of the case is logged (a re-shown form too), before the page goes: one insert.
    await s.accessLog.record(accessorOf(req), 'case.view', { caseId: view.case.id, caseReference: view.case.reference });
    res.status(faq.error && status === 200 ? 400 : status).render('agent/case', {
      lang,
      live: true,
      liveCursor,
      userId: req.ctx.user!.id,
      // The title ends up in browser history and tab lists: masked, like every list (the heading shows it in full).
      title: `${c.reference} – ${maskPersonnummer(c.subject)}`,
      c,
      categoryName: lang === 'en' ? c.category_name_en : c.category_name_sv,
      timeline: view.timeline.map((e) => ({ ...e, ...describeEvent(e, lang, { remoteImages, hideContact: !pv.access.shown }), files: e.message_id ? (byMessage.get(e.message_id) ?? []) : [] })),
      protection: { ...pv.access, contact: pv.contact },
      remoteImages,
      users: users.map((u) => ({ ...u, selected: u.id === c.assignee_id })),
      departments,
      undeliveredMail: pv.undeliveredMail,
      transitions: allowedTransitions(c.status as CaseStatus),
      replyStatuses: (['waiting', 'open', 'resolved'] as const).filter((st) => st === c.status || allowedTransitions(c.status as CaseStatus).includes(st)),
      isClosed: c.status === 'closed',
      callback: callback && { ...callback, pending: callback.status === 'pending', results: CALLBACK_RESULTS },
      done: typeof req.query.klart === 'string' ? translate(lang, `agent.done.${req.query.klart}`) : undefined,
      form: form
        ? { [form.action]: { errors, values: form.values, message: form.error instanceof ValidationError ? undefined : describeError(form.error, lang) } }
        : {},
      failed: form ? failureSummary(form.action, form.error, lang) : undefined,
      faq,
      // Retention's legal hold: placed and lifted by managers and admins (views/partials/legal-hold.hbs).
      canHold: hasRole(req.ctx.user!.role, 'manager'),
    });
  }

  /** One handler shape for every case action: run it, then back to the case with a confirmation. */
  const action = (name: CaseAction, run: (ref: string, req: Request) => Promise<unknown>, access: 'agent' | 'manager' = 'agent'): RouteDef => ({
    method: 'post',
    path: `/agent/cases/:reference/${name}`,
    access,
    summary: `Case action: ${name}`,
    handler: async (req, res) => {
      const ref = referenceParam(req);
      try {
        await run(ref, req);
        const anchor = DONE_ANCHORS[name];
        res.redirect(303, `/agent/cases/${ref}?klart=${name}#${anchor}`);
      } catch (err) {
        if (err instanceof AppError && (err.status === 400 || err.status === 409)) {
          return renderCase(req, res, err.status, { action: name, error: err, values: req.body ?? {} });
        }
        throw err;
      }
    },
  });

  const backToCase: RouteDef = {
    method: 'get',
    path: '/agent/cases/:reference/:action',
    access: 'agent',
    summary: 'A reload of a failed action goes back to the case',
    handler: (req, res) => {
      if (!(String(req.params.action) in SECTION_IDS)) throw new NotFoundError(`No page at ${req.path}`);
      res.redirect(303, `/agent/cases/${referenceParam(req)}`);
    },
  };

  return [
    {
      method: 'get',
      path: '/agent',
      access: 'agent',
      summary: 'The queue',
      handler: async (req, res) => {
        const lang = req.ctx.lang;
        const user = req.ctx.user!;
        const liveCursor = await s.live.cursor();
        let result;
        let error: string | undefined;
        try {
          result = await cases.listQueue(req.query);
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          error = Object.values(localizeFieldErrors(err.fields, lang)).join(' ');
          result = await cases.listQueue({});
          res.status(400);
        }
        if (req.query.statusfel === '1') error = translate(lang, 'presence.invalid');
        const filter = result.filter;
        const params = new URLSearchParams();
        for (const key of ['status', 'channel', 'category'] as const) if (filter[key]) params.set(key, String(filter[key]));
        const isManager = hasRole(user.role, 'manager');
        const [categories, snapshot, myStatus, agents] = await Promise.all([
          organisation.listCategories(),
          s.queue.snapshot(),
          s.presence.statusOf(user.id),
          isManager ? s.live.onlineUserIds().then((online) => s.presence.list(online)) : undefined,
        ]);
        const now = Date.now();
        const status = PRESENCE_STATUSES.find((p) => p === req.query.narvaro);
        res.render('agent/queue', {
          lang,
          live: true,
          liveCursor,
          userId: user.id,
          isManager,
          counts: describeCounts(snapshot, lang as Language),
          presence: myStatus,
          presenceStatuses: PRESENCE_STATUSES,
          agents,
          hasNext: Boolean(result.next),
          waitTargetMinutes: s.config.live.waitTargetMinutes,
          done: status ? translate(lang, 'presence.changed', { status: translate(lang, `presence.status.${status}`) }) : undefined,
          takeNextEmpty: req.query.tomt === '1',
          title: translate(lang, 'queue.title'),
          items: result.items.map((i) => ({ ...i, ...waitingFor(i, now) })),
          nextUrl: result.next ? `/agent?${new URLSearchParams([...params, ['cursor', result.next]]).toString()}` : undefined,
          firstUrl: filter.cursor ? `/agent?${params.toString()}` : undefined,
          filter,
          statuses: ['active', 'all', ...STATUSES],
          channels: CHANNELS,
          categories,
          error,
        });
      },
    },
    {
      method: 'get',
      path: '/agent/cases/:reference',
      access: 'agent',
      summary: 'A case with its whole timeline',
      handler: (req, res) => renderCase(req, res),
    },
    backToCase,
    action('reply', (ref, req) => cases.reply(ref, req.ctx.user!, req.body)),
    action('note', (ref, req) => cases.addNote(ref, req.ctx.user!, req.body)),
    action('status', (ref, req) => cases.update(ref, req.ctx.user!, { status: req.body?.status ?? '' })),
    action('assign', (ref, req) =>
      cases.update(ref, req.ctx.user!, { assigneeId: req.body?.take === '1' ? req.ctx.user!.id : (req.body?.assigneeId ?? '') }),
    ),
    action('forward', (ref, req) => cases.forward(ref, req.ctx.user!, req.body)),
    action('callback', (ref, req) => s.callbacks.recordAttempt(ref, req.ctx.user!, req.body)),
    action('identity', (ref, req) => s.protectedIdentity.mark(ref, req.ctx.user!, req.body)),
    action('hold', (ref, req) => s.retention.setLegalHold(ref, req.ctx.user!, req.body, true), 'manager'),
    action('release', (ref, req) => s.retention.setLegalHold(ref, req.ctx.user!, req.body, false), 'manager'),
    {
      method: 'get',
      path: '/agent/attachments/:publicId',
      access: 'agent',
      summary: 'Download an attachment',
      handler: async (req, res) => {
        const row = await attachments.findByPublicId(String(req.params.publicId));
        if (!row || !(await attachments.exists(row))) throw new NotFoundError('No such file');
        await s.accessLog.record(accessorOf(req), 'case.attachment', { caseId: row.case_id, target: row.filename, detail: { attachment: row.public_id } });
        sendAttachment(res, row, attachments.pathOf(row.storage_key));
      },
    },
  ];
}
