import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import multer from 'multer';
import { accessibilityRoutes } from './accessibility/routes.js';
import { adminRoutes } from './admin/routes.js';
import { authRoutes } from './auth/routes.js';
import { authenticate } from './auth/middleware.js';
import { caseApiRoutes } from './cases/api-routes.js';
import { caseSearchRoutes } from './cases/search-routes.js';
import { callbackRoutes } from './callbacks/routes.js';
import { caseRoutes } from './cases/routes.js';
import { contactRoutes } from './contacts/routes.js';
import { callbackApiRoutes } from './callbacks/api-routes.js';
import { contactApiRoutes } from './contacts/api-routes.js';
import { queueRoutes } from './queue/routes.js';
import { telephonyRoutes } from './telephony/routes.js';
import { faqApiRoutes } from './faq/api-routes.js';
import { editorFormParser, faqEditorRoutes } from './faq/editor-routes.js';
import { faqDeflectionRoutes } from './faq/deflection-routes.js';
import { faqRoutes } from './faq/routes.js';
import { statsStaffingRoutes } from './stats/staffing-routes.js';
import { surveyRoutes } from './survey/routes.js';
import { statsReportRoutes } from './stats/report-routes.js';
import { CLIENT_BUNDLES, clientBundleHandler, type BundleName } from './platform/client-bundle.js';
import { demoRoutes } from './demo/routes.js';
import { quarantineRoutes } from './intake/quarantine-routes.js';
import { intakeRoutes } from './intake/routes.js';
import { isHealthy } from './platform/db.js';
import { AppError, ValidationError } from './platform/errors.js';
import { csrfContext, isApiRequest, languageMiddleware, setPageLanguage, verifyCsrf } from './platform/http.js';
import { staffLanguage, translate } from './platform/i18n.js';
import { openApiRoutes } from './platform/openapi.js';
import { mountRoutes, type RouteDef } from './platform/routing.js';
import { discardUploads, uploadError } from './platform/uploads.js';
import { jsonDepthGuard } from './platform/json-depth.js';
import { PUBLIC_DIR, VIEWS_DIR } from './platform/paths.js';
import type { Services } from './services.js';
import { maskPersonnummerInUrl } from './privacy/personnummer.js';
import { statsLiveRoutes } from './stats/live-routes.js';
import { retentionRoutes } from './retention/routes.js';
import { accessLogRoutes } from './privacy/access-log-routes.js';
import { subjectExportRoutes } from './privacy/subject-export-routes.js';


/** Every route of the service, in one table (the authorization tests walk it). */
export function routeTable(services: Services): RouteDef[] {
  return [
    ...intakeRoutes(services),
    ...authRoutes(services),
    ...caseRoutes(services),
    ...queueRoutes(services),
    ...contactRoutes(services),
    ...callbackRoutes(services),
    ...adminRoutes(services),
    ...retentionRoutes(services),
    ...quarantineRoutes(services),
    ...caseSearchRoutes(services), // before caseApiRoutes: /api/v1/cases/search is not a :reference
    ...caseApiRoutes(services),
    ...contactApiRoutes(services),
    ...callbackApiRoutes(services),
    ...telephonyRoutes(services),
    ...faqRoutes(services),
    ...faqEditorRoutes(services),
    ...faqApiRoutes(services),
    ...faqDeflectionRoutes(services),
    ...accessibilityRoutes(services),
    ...statsStaffingRoutes(services),
    ...surveyRoutes(services),
    ...statsReportRoutes(services),
    ...statsLiveRoutes(services),
    ...accessLogRoutes(services),
    ...subjectExportRoutes(services),
    ...openApiRoutes(services),
    ...(services.config.demo && !services.config.mail.smtpUrl ? demoRoutes(services) : []),
  ];
}

export function createApp(services: Services): Express {
  const { config, views } = services;
  const app = express();
  app.disable('x-powered-by');
  // Pages and API answers are per user and change with every event: no ETags (static files keep theirs).
  app.set('etag', false);
  app.set('trust proxy', config.trustProxy);
  app.engine('hbs', views.engine());
  app.set('view engine', 'hbs');
  app.set('views', VIEWS_DIR);

  app.use(requestLog(services));
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          'default-src': ["'self'"],
          'script-src': ["'self'"],
          'style-src': ["'self'"],
          'img-src': ["'self'", 'data:'],
          'font-src': ["'self'"],
          'connect-src': ["'self'"],
          'object-src': ["'none'"],
          'base-uri': ["'none'"],
          'form-action': ["'self'"],
          'frame-ancestors': ["'none'"],
          ...(config.cookieSecure ? { 'upgrade-insecure-requests': [] } : {}),
        },
      },
      strictTransportSecurity: config.cookieSecure ? { maxAge: 31536000, includeSubDomains: true } : false,
      referrerPolicy: { policy: 'no-referrer' },
    }),
  );
  for (const name of Object.keys(CLIENT_BUNDLES) as BundleName[]) app.get(`/static/js/${name}.js`, clientBundleHandler(config.env === 'production', name));
  app.use('/static', express.static(PUBLIC_DIR, { maxAge: config.env === 'production' ? '1d' : 0, index: false }));

  app.get('/healthz', async (_req, res) => {
    const ok = await isHealthy(services.db);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable' });
  });

  app.use(languageMiddleware(config));
  app.use(authenticate(services.auth, config));
  app.use(
    '/api',
    express.json({
      limit: '200kb',
      verify: (req, _res, buf) => {
        (req as express.Request).rawBody = buf;
      },
    }),
    jsonDepthGuard(),
  );
  app.use('/redaktor', editorFormParser());
  app.use(express.urlencoded({ extended: false, limit: '200kb', parameterLimit: 200 }));
  app.use((req, res, next) => {
    res.locals.currentPath = req.path;
    res.locals.organisation = config.organisation;
    res.locals.demo = config.demo;
    res.locals.user = req.ctx.user;
    // Staff pages are Swedish and English: a signed-in user who chose Arabic reads them in Swedish.
    if (!isApiRequest(req)) setPageLanguage(req, res, req.ctx.lang);
    else if (req.ctx.authVia === 'session') req.ctx.lang = staffLanguage(req.ctx.lang);
    next();
  });
  const csrf = csrfContext(config);
  app.use((req, res, next) => {
    if (!isApiRequest(req)) return csrf(req, res, next);
    // API calls on a browser session are checked against that session's secret (the page's token).
    req.ctx.csrfSecret = req.ctx.session?.csrfSecret;
    next();
  });

  const formCsrf = verifyCsrf(config);
  const apiCsrf: RequestHandler = (req, res, next) => (req.ctx.authVia === 'session' ? formCsrf(req, res, next) : next());
  mountRoutes(app, routeTable(services), { formCsrf, apiCsrf });

  app.use((req, _res, next) => next(new AppError(`No page at ${req.path}`, 404, 'not_found')));
  app.use(errorHandler(services));
  return app;
}

function requestLog(services: Services): RequestHandler {
  const { logger } = services;
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      if (res.statusCode < 500 && !logger.isLevelEnabled('debug')) return;
      // Resident links are secrets: never write them to a log.
      // A personnummer in a path or query (a search, a hand-typed link) is masked as in every log line.
      const url = maskPersonnummerInUrl(req.originalUrl)
        .replace(/\/arende\/[^/?#]+/, '/arende/[token]')
        .replace(/\/kvitto\/[^/?#]+/, '/kvitto/[token]')
        .replace(/\/enkat\/[^/?#]+/, '/enkat/[token]')
        // A wallboard's key (/tavla?nyckel=…) is an API token: that page's query is never written.
        .replace(/^(\/tavla\/?)\?.*$/i, '$1?[redacted]')
        .replace(/([?&]nyckel=)[^&#]*/gi, '$1[redacted]')
        // A case search's query may be a personnummer, an address or a name: never written.
        .replace(/^(\/agent\/sok\/?|\/api\/v1\/cases\/search\/?)\?.*$/i, '$1?[redacted]');
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const level = res.statusCode >= 500 ? 'error' : 'debug';
      logger[level]({ method: req.method, url, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}

function errorHandler(services: Services): ErrorRequestHandler {
  const { logger } = services;
  return async (err, req, res, _next) => {
    await discardUploads(req);
    const known = toAppError(err);
    if (!known) logger.error({ err, url: req.path }, 'unhandled error');
    const e = known ?? new AppError('Something went wrong on our side. Please try again in a moment.', 500, 'internal_error');
    if (res.headersSent) return;
    if (isApiRequest(req)) {
      res.status(e.status).json({
        error: e.code,
        message: e.message,
        ...(e instanceof ValidationError ? { fields: Object.fromEntries(e.fields.map((f) => [f.field, f.message])), errors: e.fields } : {}),
      });
      return;
    }
    const lang = req.ctx?.lang ?? 'sv';
    res.status(e.status).render('error', {
      lang,
      title: translate(lang, `errors.page.${e.status}.title`),
      status: e.status,
      code: e.code,
      message: e.status >= 500 ? translate(lang, 'errors.page.500.text') : translate(lang, `errors.page.${e.status}.text`),
    });
  };
}

/** Maps library errors (body parsers, multer) to specific, readable answers. */
function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  if (err instanceof multer.MulterError) return uploadError(err);
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.too.large') return new AppError('The request body is too large', 413, 'payload_too_large');
  if (e?.type === 'entity.parse.failed') return new AppError('The request body is not valid JSON', 400, 'invalid_json');
  if (e?.type === 'parameters.too.many') return new AppError('The form has too many fields', 413, 'payload_too_large');
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) return new AppError(e.message ?? 'Bad request', e.status, 'bad_request');
  return undefined;
}
