import type { Request, Response } from 'express';
import { ValidationError } from '../platform/errors.js';
import { setPageLanguage } from '../platform/http.js';
import { translate, type Language } from '../platform/i18n.js';
import { limitPerWindow } from '../platform/rate-limit.js';
import type { RouteDef } from '../platform/routing.js';
import { errorSummary } from '../platform/validation.js';
import type { Services } from '../services.js';
import { SurveyAnsweredError, SurveyClosedError } from './service.js';
import { SURVEY_QUESTIONS } from './store.js';

type State = 'open' | 'answered' | 'closed';
const STATUS: Record<State, number> = { open: 200, answered: 200, closed: 410 };
const GRADES = [1, 2, 3, 4, 5];

/** The resident's service survey, reached from the link in the mail sent when their case was resolved. */
export function surveyRoutes(s: Services): RouteDef[] {
  const { config, surveys } = s;
  const answerLimit = limitPerWindow(config.rateLimits.intakePerWindow, config.rateLimits.windowMs, 'survey answers');

  /** In the language chosen in this browser; with no choice, the case's. */
  const languageFor = (req: Request, res: Response, caseLanguage: Language): Language =>
    req.ctx.langChosen ? req.ctx.lang : setPageLanguage(req, res, caseLanguage);

  function render(req: Request, res: Response, token: string, state: State, opts: { status?: number; thanks?: boolean; values?: Record<string, string>; error?: ValidationError } = {}) {
    const lang = req.ctx.lang;
    // Each question's first choice is where its error points.
    const { errors, errorList } = errorSummary(opts.error, lang, SURVEY_QUESTIONS, { anchor: (f) => `f-${(SURVEY_QUESTIONS as readonly string[]).includes(f) ? f : SURVEY_QUESTIONS[0]}-1` });
    const heading = state === 'open' ? 'survey.title' : state === 'closed' ? 'survey.closed.title' : opts.thanks ? 'survey.thanks.title' : 'survey.answered.title';
    res.set({ 'Cache-Control': 'no-store', 'X-Robots-Tag': 'noindex' });
    res.status(opts.status ?? STATUS[state]).render('resident/survey', {
      lang,
      title: opts.error ? translate(lang, 'survey.title_error') : translate(lang, heading),
      heading: translate(lang, heading),
      state,
      open: state === 'open',
      thanks: opts.thanks,
      action: `/enkat/${token}`,
      validDays: config.survey.validDays,
      errorList,
      // Errors that belong to no one question (none answered, an unknown field) are shown above the first.
      generalError: errorList.length && !SURVEY_QUESTIONS.some((q) => errors[q]) ? errorList[0]!.message : undefined,
      questions: SURVEY_QUESTIONS.map((q) => ({
        name: q,
        legend: translate(lang, `survey.questions.${q}.legend`),
        error: errors[q],
        choices: GRADES.map((g) => ({
          id: `f-${q}-${g}`,
          value: String(g),
          label: g === 1 ? translate(lang, `survey.questions.${q}.low`) : g === 5 ? translate(lang, `survey.questions.${q}.high`) : undefined,
          checked: opts.values?.[q] === String(g),
        })),
      })),
    });
  }

  return [
    {
      method: 'get',
      path: '/enkat/:token',
      access: 'resident-link',
      summary: 'The service survey after a resolved case',
      handler: async (req, res) => {
        const token = String(req.params.token);
        const view = await surveys.view(token);
        languageFor(req, res, view.language);
        render(req, res, token, view.state, { thanks: view.state === 'answered' && req.query.tack === '1' });
      },
    },
    {
      method: 'post',
      path: '/enkat/:token',
      access: 'resident-link',
      before: [answerLimit],
      summary: 'Answer the service survey (once)',
      handler: async (req, res) => {
        const token = String(req.params.token);
        const { _csrf, ...input } = (req.body ?? {}) as Record<string, unknown>;
        try {
          await surveys.answer(token, input);
          res.redirect(303, `/enkat/${token}?tack=1`);
        } catch (err) {
          const known = err instanceof ValidationError || err instanceof SurveyAnsweredError || err instanceof SurveyClosedError;
          if (!known) throw err;
          const view = await surveys.view(token);
          languageFor(req, res, view.language);
          if (!(err instanceof ValidationError)) return render(req, res, token, view.state, { status: err.status });
          // What was chosen well stays chosen.
          const values = Object.fromEntries(SURVEY_QUESTIONS.map((q) => [q, typeof input[q] === 'string' ? input[q] : '']));
          render(req, res, token, 'open', { status: 400, values, error: err });
        }
      },
    },
  ];
}
