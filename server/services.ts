import type { Knex } from 'knex';
import { createAttachmentService } from './attachments/service.js';
import { createAttachmentStore } from './attachments/store.js';
import { createAuthService } from './auth/service.js';
import { createAuthStore } from './auth/store.js';
import { createCaseMailService } from './cases/mail-service.js';
import { createReferenceAllocator } from './cases/reference.js';
import { createCaseService } from './cases/service.js';
import { createCaseStore } from './cases/store.js';
import type { Config } from './config.js';
import { createMailComposer } from './mail/compose.js';
import { createMailStore } from './mail/store.js';
import { createMailWorker } from './mail/worker.js';
import { createInboundStore } from './intake/inbound-store.js';
import { createMailProcessor } from './intake/mail-processor.js';
import { createOrganisationService } from './organisation/service.js';
import { createOrganisationStore } from './organisation/store.js';
import { CaseEventBus } from './platform/events.js';
import type { Logger } from './platform/logger.js';
import { createMailTransport, type MailTransport } from './platform/mail.js';
import { Views } from './platform/views.js';
import { createResidentStore } from './residents/store.js';
import { createLiveHub } from './live/hub.js';
import { createLiveRenderer } from './live/messages.js';
import { createPresenceService } from './presence/service.js';
import { createPresenceStore } from './presence/store.js';
import { createQueueService } from './queue/service.js';
import { createQueueStore } from './queue/store.js';
import { parseOpeningHours } from './calendar/opening-hours.js';
import { createCallbackService } from './callbacks/service.js';
import { createWorkingTime } from './stats/working-time.js';
import { createCallbackStore } from './callbacks/store.js';
import { createCaseChanger, createCaseOpener } from './cases/change.js';
import { createContactService } from './contacts/service.js';
import { createTelephonyService } from './telephony/service.js';
import { createCallStore } from './telephony/store.js';
import { createFaqService } from './faq/service.js';
import { createFaqStore } from './faq/store.js';
import { createFaqEditor } from './faq/editor.js';
import { createFaqEditorStore } from './faq/editor-store.js';
import { createFaqStats } from './faq/stats.js';
import { createFaqStatsStore } from './faq/stats-store.js';
import { createFaqReplyService } from './faq/reply-service.js';
import { createReplyUseRecorder } from './faq/reply-uses.js';
import { createReplyUseStore } from './faq/reply-uses-store.js';
import { createFaqFeedbackService } from './faq/feedback.js';
import { createFaqFeedbackStore } from './faq/feedback-store.js';
import { createFaqDeflectionService } from './faq/deflection.js';
import { createFaqDeflectionStore } from './faq/deflection-store.js';
import { createLiveBoard } from './stats/live-board.js';
import { createLiveBoardStore } from './stats/live-board-store.js';
import { createStaffingService } from './stats/staffing.js';
import { createStaffingStore } from './stats/staffing-store.js';
import { createSurveyService } from './survey/service.js';
import { createSurveyStore } from './survey/store.js';
import { createReportService } from './stats/report.js';
import { createReportStore } from './stats/report-store.js';
import { createAccessibilityReports } from './accessibility/service.js';
import { createAccessLog } from './privacy/access-log.js';
import { createAccessLogStore } from './privacy/access-log-store.js';
import { createAccessLogSearch } from './privacy/access-log-search.js';
import { createSubjectExport } from './privacy/subject-export.js';
import { createSubjectExportStore } from './privacy/subject-export-store.js';
import { createCaseSearch } from './cases/search.js';
import { createCaseSearchStore } from './cases/search-store.js';
import { createPollingLoop } from './platform/polling-loop.js';
import { createRetentionJob } from './retention/job.js';
import { createRetentionService } from './retention/service.js';
import { createRetentionStore } from './retention/store.js';
import { createProtectedIdentity } from './privacy/protected-identity.js';
import { createProtectedIdentityStore } from './privacy/protected-identity-store.js';

/**
 * The composition root: builds every store and service once from the config
 * and the database, and wires them together. main.ts, the CLI and the tests
 * all start here.
 */
export function createServices(deps: { config: Config; db: Knex; logger: Logger; transport?: MailTransport }) {
  const { config, db, logger } = deps;
  const views = new Views();
  const bus = new CaseEventBus();
  const mailStore = createMailStore(db);
  const transport = deps.transport ?? createMailTransport(config);
  const mailWorker = createMailWorker({ store: mailStore, transport, config, logger });
  bus.onMailQueued(() => mailWorker.kick());

  const accessLog = createAccessLog({ store: createAccessLogStore(db) });
  const authStore = createAuthStore(db);
  const auth = createAuthService({ store: authStore, config, logger });
  const organisationStore = createOrganisationStore(db);
  const organisation = createOrganisationService({ store: organisationStore });
  const attachments = createAttachmentService({ store: createAttachmentStore(db), config });
  const composer = createMailComposer({ views, config });
  const surveys = createSurveyService({ config, store: createSurveyStore(db), composer });
  const caseStore = createCaseStore(db);
  // The statistics count working time in their own office hours (STATS_OFFICE_HOURS), on the same holidays and time zone.
  const officeHours = parseOpeningHours({ hours: config.calendar.statsOfficeHours, closedOn: config.calendar.closedOn, timeZone: config.calendar.timeZone });
  const workingTime = createWorkingTime(officeHours, config.calendar.timeZone);
  const references = createReferenceAllocator((n) => caseStore.takeCaseNumbers(n));
  const residentStore = createResidentStore();
  const cases = createCaseService({
    db,
    cases: caseStore,
    residents: residentStore,
    users: authStore,
    organisation: organisationStore,
    topics: organisation,
    references,
    attachments,
    mail: mailStore,
    composer,
    bus,
    replyUses: createReplyUseRecorder({ store: createReplyUseStore(), publicUrl: config.publicUrl }),
    workingTime,
    surveys,
  });

  const inbound = createInboundStore(db);
  const caseMail = createCaseMailService({ db, cases: caseStore, residents: residentStore, attachments, composer, mail: mailStore, bus, references, workingTime });
  const mailProcessor = createMailProcessor({ config, store: inbound, cases: caseStore, caseMail, topics: organisation, mail: mailStore, attachments, logger });

  const hours = parseOpeningHours({ hours: config.calendar.openingHours, closedOn: config.calendar.closedOn, timeZone: config.calendar.timeZone });
  const change = createCaseChanger({ db, cases: caseStore, mail: mailStore, bus, workingTime, surveys });
  const protectedIdentity = createProtectedIdentity({ store: createProtectedIdentityStore(db), cases: caseStore, change, accessLog });
  const open = createCaseOpener({ db, cases: caseStore, mail: mailStore, bus, residents: residentStore, workingTime, surveys });
  const callbacks = createCallbackService({ config, cases: caseStore, callbacks: createCallbackStore(db), hours, open, change, composer, topics: organisation, references });
  const contacts = createContactService({ open, callbacks, topics: organisation, organisation: organisationStore, references, composer, mail: mailStore });
  const accessibilityReports = createAccessibilityReports({ open, topics: organisation, references, composer, category: config.intake.category });
  const queue = createQueueService({ db, queue: createQueueStore(db), cases: caseStore, mail: mailStore, bus, workingTime });
  const presence = createPresenceService({ store: createPresenceStore(db) });
  const renderer = createLiveRenderer({ views, cases: caseStore, attachments });
  const liveBoard = createLiveBoard({ config, store: createLiveBoardStore(db), presence, online: () => live.onlineUserIds() });
  const live = createLiveHub({ config, logger, auth, cases: caseStore, queue, presence, renderer, bus, board: liveBoard });
  const faq = createFaqService({ db, store: createFaqStore(db) });
  const faqEditor = createFaqEditor({ db, store: createFaqEditorStore(db), config });
  const faqStats = createFaqStats({ store: createFaqStatsStore(db) });
  const faqReplies = createFaqReplyService({ faq, publicUrl: config.publicUrl });
  const faqFeedback = createFaqFeedbackService({ store: createFaqFeedbackStore(db) });
  const faqDeflection = createFaqDeflectionService({ store: createFaqDeflectionStore(db), logger });
  const caseSearch = createCaseSearch({ store: createCaseSearchStore(db) });
  const reports = createReportService({ store: createReportStore(db), workingTime, timeZone: config.calendar.timeZone, stats: config.stats, survey: surveys, surveyEnabled: config.survey.enabled });
  const retentionStore = createRetentionStore(db);
  const retention = createRetentionService({ store: retentionStore, bus, logger, pathOf: (key) => attachments.pathOf(key) });
  // Built here, started by main.ts alone (RETENTION_ENABLED): tests and the CLI never run it on their own.
  const retentionJob = createRetentionJob({ service: retention, store: retentionStore, logger, config });
  const telephony = createTelephonyService({ config, db, logger, views, calls: createCallStore(db), cases: caseStore, callbackStore: createCallbackStore(db), callbacks, live, protectedIdentity });

  return {
    config,
    db,
    logger,
    views,
    bus,
    auth,
    accessLog,
    accessLogSearch: createAccessLogSearch({ store: accessLog.store, timeZone: config.calendar.timeZone }),
    subjectExport: createSubjectExport({ store: createSubjectExportStore(db), attachments, views, timeZone: config.calendar.timeZone }),
    caseSearch,
    // Indexes what was written for search after it commits, so intake writes nothing for it (started by main.ts).
    searchIndexer: createPollingLoop({ name: 'search index', pollMs: 5_000, logger, run: async () => void (await caseSearch.catchUp()) }),
    protectedIdentity,
    organisation,
    attachments,
    cases,
    queue,
    presence,
    live,
    liveBoard,
    hours,
    officeHours,
    workingTime,
    callbacks,
    contacts,
    accessibilityReports,
    telephony,
    faq,
    faqEditor,
    faqStats,
    faqReplies,
    faqFeedback,
    faqDeflection,
    staffing: createStaffingService({ store: createStaffingStore(db), officeHours, config }),
    surveys,
    reports,
    retention,
    retentionJob,
    mail: { store: mailStore, worker: mailWorker, transport },
    intake: { store: inbound, processor: mailProcessor },
  };
}

export type Services = ReturnType<typeof createServices>;
