import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createImapWatcher, type ImapWatcher } from '../../server/intake/imap-watcher.js';
import { createInboundStore, type InboundStore, type RawDelivery } from '../../server/intake/inbound-store.js';
import type { Database } from '../../server/platform/db.js';
import { startDovecot, startTcpProxy, type Dovecot, type TcpProxy } from '../support/dovecot.js';
import { freshDatabase } from '../support/database.js';
import { startTestApp, type TestApp } from '../support/harness.js';

/**
 * IMAP intake against a real Dovecot (Debian's dovecot-imapd, started by the
 * tests on a private port): every message stored once by UID and Message-ID,
 * marked \Seen only after it is stored, across restarts, IDLE, dropped
 * connections and a recreated mailbox.
 */

const runId = randomBytes(4).toString('hex');
let seq = 0;

interface TestMail {
  raw: Buffer;
  messageId: string;
}

function mail(subject: string, body = 'Hej! Gatlampan utanför Stationsgatan 12 är trasig sedan en vecka.'): TestMail {
  const messageId = `imap-${runId}-${++seq}@resident.example`;
  const raw = Buffer.from(
    [
      'Return-Path: <sara.oberg@resident.example>',
      'From: Sara Oberg <sara.oberg@resident.example>',
      'To: kontaktcenter@borlange.example',
      `Subject: ${subject}`,
      `Message-ID: <${messageId}>`,
      `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      body,
      '',
    ].join('\r\n'),
  );
  return { raw, messageId };
}

interface LogLine {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

/** A real pino logger whose lines the test can read. */
function capturingLogger() {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

/** Asserts that a line matching `pattern` was logged (at `minLevel` or above), showing the log when not. */
function assertLogged(lines: LogLine[], pattern: RegExp, minLevel = 0): void {
  if (lines.some((l) => l.level >= minLevel && pattern.test(l.msg ?? ''))) return;
  assert.fail(`nothing logged matching ${pattern}; the log:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
}

/** Polls until `check` holds; fails with `what` after `ms`. No timing is asserted, only that it happens. */
async function waitFor(what: string, check: () => Promise<boolean> | boolean, log?: LogLine[], ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${log ? `; the watcher's log:\n${log.map((l) => JSON.stringify(l)).join('\n')}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('IMAP intake against a real Dovecot', function () {
  this.timeout(60_000);
  let dovecot: Dovecot;
  let t: TestApp;
  let store: InboundStore;
  const running: ImapWatcher[] = [];

  before(async function () {
    this.timeout(180_000); // may install dovecot-imapd first
    dovecot = await startDovecot();
    t = await startTestApp();
    store = createInboundStore(t.db);
  });

  afterEach(async () => {
    for (const w of running.splice(0)) await w.stop();
  });

  after(async () => {
    await t?.close();
    await dovecot?.stop();
  });

  const address = () => t.config.intake.addresses[0]!;

  function watcherFor(mailbox: string, opts: { url?: string; store?: InboundStore; pollMs?: number } = {}) {
    const log = capturingLogger();
    let notified = 0;
    const watcher = createImapWatcher({
      config: { intake: { ...t.config.intake, imapUrl: opts.url ?? dovecot.url, imapMailbox: mailbox, imapPollMs: opts.pollMs ?? 10 * 60_000 } },
      store: opts.store ?? store,
      onStored: () => notified++,
      logger: log.logger,
    });
    running.push(watcher);
    return { watcher, log, notified: () => notified };
  }

  type Row = { message_id: string | null; imap_uid: number; imap_uidvalidity: number; recipient: string; source: string; envelope_from: string | null };
  const rowsIn = async (mailbox: string): Promise<Row[]> =>
    (await t.db('inbound_messages')
      .where({ imap_mailbox: mailbox })
      .orderBy('id')
      .select('message_id', 'imap_uid', 'imap_uidvalidity', 'recipient', 'source', 'envelope_from')) as Row[];
  const storedIds = async (mailbox: string) => (await rowsIn(mailbox)).map((r) => r.message_id);
  const has = (mailbox: string, ...mails: TestMail[]) => async () => {
    const ids = new Set(await storedIds(mailbox));
    return mails.every((m) => ids.has(m.messageId));
  };
  const seenUids = async (mailbox: string) => {
    const flags = await dovecot.flagsByUid(mailbox);
    return { all: [...flags.keys()], seen: [...flags].filter(([, f]) => f.has('\\Seen')).map(([uid]) => uid) };
  };
  const assertEachOnce = (ids: (string | null)[]) => assert.equal(new Set(ids).size, ids.length, `a message was stored twice: ${ids.join(', ')}`);

  /** A store that counts what the watcher hands it, around the real one. */
  function countingStore(inner: InboundStore, onStore?: (d: RawDelivery, result: { duplicate: boolean }) => void) {
    const calls: { uid: number; duplicate: boolean }[] = [];
    const wrapped: InboundStore = {
      ...inner,
      async store(d) {
        const result = await inner.store(d);
        calls.push({ uid: d.imap?.uid ?? -1, duplicate: result.duplicate });
        onStore?.(d, result);
        return result;
      },
    };
    return { store: wrapped, calls };
  }

  it('stores each new message once with its UID and Message-ID, then marks it \\Seen; mail read before the first start is history', async () => {
    const history = mail('Läst innan intaget startade');
    await dovecot.appendMessage(history.raw, ['\\Seen']);
    const mails = [mail('Trasig gatlampa'), mail('Snöröjning'), mail('Bygglov')];
    const appended: { uid: number; uidValidity: number }[] = [];
    for (const m of mails) appended.push(await dovecot.appendMessage(m.raw));

    const { watcher, notified } = watcherFor('INBOX');
    assert.equal(await watcher.syncNow(), 3);

    const rows = await rowsIn('INBOX');
    assert.deepEqual(
      rows.map((r) => [r.message_id, Number(r.imap_uid), Number(r.imap_uidvalidity)]),
      mails.map((m, i) => [m.messageId, appended[i]!.uid, appended[i]!.uidValidity]),
    );
    for (const r of rows) {
      assert.equal(r.source, 'imap');
      assert.equal(r.recipient, address());
      assert.equal(r.envelope_from, 'sara.oberg@resident.example');
    }
    const stored = await t.db('inbound_messages').where({ message_id: mails[0]!.messageId }).first('raw');
    assert.ok(Buffer.from(stored.raw).equals(mails[0]!.raw), 'the raw message is kept byte for byte');

    const { all, seen } = await seenUids('INBOX');
    assert.deepEqual(seen.sort(), all.sort(), 'every message is \\Seen afterwards');
    const state = await store.imapState('INBOX');
    assert.equal(Number(state?.last_uid), appended[2]!.uid);
    assert.equal(Number(state?.uidvalidity), appended[2]!.uidValidity);
    assert.ok(notified() >= 1, 'onStored was called');

    assert.equal(await watcher.syncNow(), 0, 'nothing new the second time');
    assert.equal((await rowsIn('INBOX')).length, 3);
    assert.ok(!(await storedIds('INBOX')).includes(history.messageId), 'a message read before the first start is not taken');
  });

  it('after a restart stores nothing again and picks up only what is new', async () => {
    const before = await rowsIn('INBOX');
    const first = watcherFor('INBOX');
    await first.watcher.start();
    const whileRunning = mail('Medan den körde');
    await dovecot.appendMessage(whileRunning.raw);
    await waitFor('the message appended while running', has('INBOX', whileRunning));
    await first.watcher.stop();

    const whileStopped = [mail('Medan den stod still 1'), mail('Medan den stod still 2')];
    const uids: number[] = [];
    for (const m of whileStopped) uids.push((await dovecot.appendMessage(m.raw)).uid);

    const counting = countingStore(store);
    const second = watcherFor('INBOX', { store: counting.store });
    await second.watcher.start();
    await waitFor('the messages appended while stopped', has('INBOX', ...whileStopped));
    await second.watcher.stop();

    assert.deepEqual(
      counting.calls.map((c) => c.uid),
      uids,
      'only the new UIDs were fetched and stored',
    );
    assert.ok(counting.calls.every((c) => !c.duplicate));
    const ids = await storedIds('INBOX');
    assert.equal(ids.length, before.length + 3);
    assertEachOnce(ids);
    const { all, seen } = await seenUids('INBOX');
    assert.deepEqual(seen.sort(), all.sort());
  });

  it('stores a message that arrives while it watches, through IDLE, without syncNow or a poll', async () => {
    const { watcher, log } = watcherFor('INBOX', { pollMs: 60 * 60_000 });
    await watcher.start();
    const before = (await rowsIn('INBOX')).length;
    const fresh = mail('Via IDLE');
    const { uid } = await dovecot.appendMessage(fresh.raw);
    await waitFor('the message pushed by IDLE', has('INBOX', fresh), log.lines);
    assert.ok(
      log.lines.some((l) => l.msg === 'new mail announced'),
      'the server announced the new mail (EXISTS during IDLE)',
    );
    assert.equal((await rowsIn('INBOX')).length, before + 1);
    await waitFor('the message to be \\Seen', async () => (await dovecot.flagsByUid('INBOX')).get(uid)?.has('\\Seen') === true);
  });

  describe('when the connection drops', () => {
    let proxy: TcpProxy;
    before(async () => {
      proxy = await startTcpProxy(dovecot.port);
    });
    after(async () => {
      await proxy.close();
    });

    it('in the middle of fetching, reconnects and continues without storing anything twice', async () => {
      const mailbox = 'Dropped';
      await dovecot.withClient((c) => c.mailboxCreate(mailbox));
      const first = mail('Före avbrottet');
      await dovecot.appendMessage(first.raw, [], mailbox);
      // The first sync adopts the mailbox; after it the position is known.
      assert.equal(await watcherFor(mailbox).watcher.syncNow(), 1);

      const burst = Array.from({ length: 30 }, (_, i) => mail(`Skur ${i + 1}`, `Meddelande ${i + 1}\r\n${'x'.repeat(2000)}`));
      for (const m of burst) await dovecot.appendMessage(m.raw, [], mailbox);

      // The network fails right after the fifth message is stored: stored, not yet \Seen, position not saved.
      let dropped = 0;
      let fresh = 0;
      const counting = countingStore(store, (_d, result) => {
        if (!result.duplicate && ++fresh === 5 && !dropped) {
          dropped++;
          proxy.dropAll();
        }
      });
      const proxied = `imap://${dovecot.user}:${dovecot.password}@127.0.0.1:${proxy.port}`;
      const { watcher, log } = watcherFor(mailbox, { url: proxied, store: counting.store });
      await watcher.start();
      await waitFor('all 30 messages after the reconnect', has(mailbox, ...burst), log.lines);
      await waitFor('all of them \\Seen', async () => {
        const { all, seen } = await seenUids(mailbox);
        return all.length === 31 && seen.length === 31;
      });

      assert.equal(dropped, 1, 'the connection was cut mid-way');
      assertLogged(log.lines, /reconnect/);
      assert.ok(counting.calls.filter((c) => c.duplicate).length >= 5, 'what was stored before the cut was fetched again and recognised');
      const ids = await storedIds(mailbox);
      assert.equal(ids.length, 31);
      assertEachOnce(ids);
    });

    it('when Dovecot restarts, reconnects and stores the mail that comes after', async () => {
      const { watcher, log } = watcherFor('INBOX', { pollMs: 60 * 60_000 });
      await watcher.start();
      const before = await rowsIn('INBOX');
      await dovecot.restart();
      const after = mail('Efter omstarten');
      await dovecot.appendMessage(after.raw);
      await waitFor('the message after the restart', has('INBOX', after), log.lines);
      assertLogged(log.lines, /reconnect/);
      const ids = await storedIds('INBOX');
      assert.equal(ids.length, before.length + 1);
      assertEachOnce(ids);
    });
  });

  it('when UIDVALIDITY changes (mailbox recreated under it), notices at the next poll, stores nothing twice and takes what is new', async () => {
    const mailbox = 'Recreated';
    await dovecot.withClient((c) => c.mailboxCreate(mailbox));
    const old = [mail('Gammal 1'), mail('Gammal 2')];
    let firstValidity = 0;
    for (const m of old) firstValidity = (await dovecot.appendMessage(m.raw, [], mailbox)).uidValidity;

    // A session idling on the deleted mailbox hears nothing of the new one: the poll
    // (re-selecting the mailbox) is what notices, so it runs every second here.
    const { watcher, log } = watcherFor(mailbox, { pollMs: 1000 });
    await watcher.start();
    await waitFor('the first two messages', has(mailbox, ...old), log.lines);

    // Recreated under the running watcher; the old messages come back (unread, new UIDs) with a new one.
    await dovecot.withClient(async (c) => {
      await c.mailboxDelete(mailbox);
      await c.mailboxCreate(mailbox);
    });
    const added = mail('Ny efter återskapandet');
    let secondValidity = 0;
    for (const m of [...old, added]) secondValidity = (await dovecot.appendMessage(m.raw, [], mailbox)).uidValidity;
    assert.notEqual(secondValidity, firstValidity, 'Dovecot gave the recreated mailbox a new UIDVALIDITY');

    await waitFor('the new message in the recreated mailbox', has(mailbox, added), log.lines);
    await waitFor('the new UIDVALIDITY to be recorded', async () => Number((await store.imapState(mailbox))?.uidvalidity) === secondValidity);
    const rows = await rowsIn(mailbox);
    assert.deepEqual(
      rows.map((r) => [r.message_id, Number(r.imap_uidvalidity)]),
      [...old.map((m) => [m.messageId, firstValidity]), [added.messageId, secondValidity]],
    );
    await waitFor('every message of the recreated mailbox \\Seen, the recognised ones too', async () => {
      const { all, seen } = await seenUids(mailbox);
      return all.length === 3 && seen.length === 3;
    });
    assertLogged(log.lines, /UIDVALIDITY changed/);
  });

  describe('when storing fails', () => {
    // A database of its own, closed under the watcher (the app's database stays up).
    let database: Database;
    before(async () => {
      database = (await freshDatabase()).database;
    });
    after(async () => {
      await database.close();
    });

    it('never marks the message \\Seen, logs the error and keeps running', async () => {
      const mailbox = 'Unstored';
      await dovecot.withClient((c) => c.mailboxCreate(mailbox));
      const m = mail('Databasen är nere');
      const { uid } = await dovecot.appendMessage(m.raw, [], mailbox);

      const { watcher, log } = watcherFor(mailbox, { store: createInboundStore(database.knex), pollMs: 1000 });
      await database.knex.destroy();

      await assert.rejects(watcher.syncNow());
      assert.equal((await dovecot.flagsByUid(mailbox)).get(uid)?.has('\\Seen'), false, 'not \\Seen after a failed sync');
      assertLogged(log.lines, /^IMAP intake sync failed$/, 50);

      // Watching: each attempt fails, is logged, and is retried; the process is unharmed.
      await watcher.start();
      await waitFor('a failed attempt logged by the running watcher', () => log.lines.some((l) => l.level >= 50 && /reconnecting/.test(l.msg ?? '')));
      await watcher.stop();
      assert.equal((await dovecot.flagsByUid(mailbox)).get(uid)?.has('\\Seen'), false, 'still not \\Seen');
    });
  });
});
