import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../server/config.js';

/**
 * loadConfig is given an explicit environment every time: these tests never
 * read or change process.env, and never write outside their own temp dirs.
 */
describe('config: loadConfig', () => {
  const PG = 'postgres://app@db.example:5432/servicecenter';
  const strong = () => randomBytes(32).toString('hex');
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'sc-config-'));
    dirs.push(d);
    return d;
  };
  let envBefore: string;
  before(() => {
    envBefore = JSON.stringify(process.env);
  });
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    assert.equal(JSON.stringify(process.env), envBefore, 'process.env was not touched');
  });

  /** Asserts that loading refuses with a ConfigError whose message matches. */
  function refuses(env: NodeJS.ProcessEnv, message: RegExp) {
    assert.throws(
      () => loadConfig(env),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, `a ConfigError, got ${String(err)}`);
        assert.match(err.message, message);
        return true;
      },
    );
  }

  describe('SESSION_SECRET', () => {
    it('is required when DATABASE_URL is set', () => {
      refuses({ DATABASE_URL: PG }, /SESSION_SECRET is required when DATABASE_URL is set/);
    });

    it('refuses a short one', () => {
      refuses({ DATABASE_URL: PG, SESSION_SECRET: 'changeme' }, /SESSION_SECRET must be at least 32 characters/);
      refuses({ DATABASE_URL: PG, SESSION_SECRET: strong().slice(0, 31) }, /SESSION_SECRET must be at least 32 characters/);
    });

    it('refuses a default padded out to length and other low-variety values', () => {
      for (const secret of [
        'changeme'.repeat(4),
        'CHANGEME'.repeat(5),
        'change-me-'.repeat(4),
        `changeme${'!'.repeat(24)}`,
        `${'0'.repeat(28)}password`,
        'session-secret-session-secret-session-secret',
        'keyboard cat keyboard cat keyboard cat',
        'a'.repeat(64),
        'abcabcabcabcabcabcabcabcabcabcabcabc',
        '12345671234567123456712345671234567',
      ]) {
        assert.ok(secret.length >= 32, secret);
        refuses({ DATABASE_URL: PG, SESSION_SECRET: secret }, /SESSION_SECRET is a default or trivially weak value/);
      }
    });

    it('refuses a weak secret on the embedded database too', () => {
      refuses({ DATA_DIR: tempDir(), SESSION_SECRET: 'changeme'.repeat(4) }, /SESSION_SECRET is a default or trivially weak value/);
    });

    it('accepts a good one', () => {
      for (const secret of [strong(), randomBytes(48).toString('base64url'), 'a9f3c2e1b7d64f0e8a1c5b9d3e7f2a6c4b8d0e2f', 'correct-horse-battery-staple-tuba-violin']) {
        const config = loadConfig({ DATABASE_URL: PG, SESSION_SECRET: secret });
        assert.equal(config.sessionSecret, secret);
        assert.equal(config.databaseUrl, PG);
      }
    });

    it('on the embedded database without one: generates it once under DATA_DIR and keeps it', () => {
      const dir = tempDir();
      const first = loadConfig({ DATA_DIR: dir });
      assert.match(first.sessionSecret, /^[0-9a-f]{64}$/);
      const file = path.join(dir, 'session-secret');
      assert.ok(existsSync(file));
      assert.equal(readFileSync(file, 'utf8').trim(), first.sessionSecret);
      if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o777, 0o600, 'only the owner may read it');
      const second = loadConfig({ DATA_DIR: dir });
      assert.equal(second.sessionSecret, first.sessionSecret, 'the same secret after a restart');
      const elsewhere = loadConfig({ DATA_DIR: tempDir() });
      assert.notEqual(elsewhere.sessionSecret, first.sessionSecret, 'each data directory has its own');
    });

    it('creates DATA_DIR when it does not exist yet', () => {
      const dir = path.join(tempDir(), 'nested', 'data');
      const config = loadConfig({ DATA_DIR: dir });
      assert.equal(config.dataDir, dir);
      assert.ok(existsSync(path.join(dir, 'session-secret')));
    });

    it('an override wins and writes nothing', () => {
      const dir = tempDir();
      const config = loadConfig({ DATA_DIR: dir }, { sessionSecret: 'from-the-test' });
      assert.equal(config.sessionSecret, 'from-the-test');
      assert.ok(!existsSync(path.join(dir, 'session-secret')));
    });
  });

  describe('invalid values name the variable', () => {
    const cases: [string, string][] = [
      ['PORT', 'abc'],
      ['PORT', '70000'],
      ['PORT', '-1'],
      ['PORT', '80.5'],
      ['DATABASE_URL', 'mysql://root@localhost/db'],
      ['DATABASE_URL', 'localhost:5432'],
      ['SMTP_URL', 'http://mail.example'],
      ['SMTP_URL', 'mail.example:25'],
      ['PUBLIC_URL', 'not a url'],
      ['LOG_LEVEL', 'loud'],
      ['NODE_ENV', 'staging'],
      ['DEMO', 'yes'],
      ['DB_POOL_MAX', '0'],
      ['PASSWORD_HASH_MEMORY_KIB', '512'],
      ['PASSWORD_HASH_TIME_COST', '0'],
    ];
    for (const [name, value] of cases) {
      it(`${name}=${value}`, () => {
        refuses({ SESSION_SECRET: strong(), DATA_DIR: tempDir(), [name]: value }, new RegExp(`Invalid configuration:[\\s\\S]*\\b${name}\\b`));
      });
    }

    it('reports every invalid variable at once', () => {
      assert.throws(
        () => loadConfig({ SESSION_SECRET: strong(), PORT: 'abc', DATABASE_URL: 'mysql://x', SMTP_URL: 'ftp://x' }),
        (err: unknown) => err instanceof ConfigError && ['PORT', 'DATABASE_URL', 'SMTP_URL'].every((v) => err.message.includes(v)),
      );
    });

    it('accepts smtp:// and smtps:// and postgresql:// URLs', () => {
      const a = loadConfig({ DATABASE_URL: 'postgresql://u@h/d', SESSION_SECRET: strong(), SMTP_URL: 'smtp://relay.example:25' });
      assert.equal(a.mail.smtpUrl, 'smtp://relay.example:25');
      const b = loadConfig({ DATABASE_URL: PG, SESSION_SECRET: strong(), SMTP_URL: 'smtps://u:p@relay.example:465', PORT: '8080' });
      assert.equal(b.mail.smtpUrl, 'smtps://u:p@relay.example:465');
      assert.equal(b.port, 8080);
    });
  });

  describe('defaults', () => {
    it('port 3000, the embedded database, demo on', () => {
      const dir = tempDir();
      const c = loadConfig({ DATA_DIR: dir });
      assert.equal(c.port, 3000);
      assert.equal(c.host, '0.0.0.0');
      assert.equal(c.env, 'development');
      assert.equal(c.databaseUrl, undefined, 'embedded when DATABASE_URL is unset');
      assert.equal(c.demo, true, 'the embedded database runs the demo');
      assert.equal(c.publicUrl, 'http://localhost:3000');
      assert.equal(c.cookieSecure, false);
      assert.equal(c.trustProxy, false);
      assert.equal(c.mail.smtpUrl, undefined);
      assert.equal(c.mail.outboxDir, path.join(dir, 'outbox'));
      assert.equal(c.uploads.dir, path.join(dir, 'attachments'));
      assert.equal(c.logLevel, 'info');
      assert.deepEqual(c.passwordHash, { memoryKiB: 65536, timeCost: 3 }, 'argon2id at the cost OWASP suggests');
    });

    it('DATA_DIR defaults to ./data', () => {
      // With a given secret nothing is written, so the default directory stays untouched.
      const c = loadConfig({ SESSION_SECRET: strong() });
      assert.equal(c.dataDir, path.resolve('data'));
    });

    it('demo off on PostgreSQL unless DEMO says so', () => {
      assert.equal(loadConfig({ DATABASE_URL: PG, SESSION_SECRET: strong() }).demo, false);
      assert.equal(loadConfig({ DATABASE_URL: PG, SESSION_SECRET: strong(), DEMO: 'true' }).demo, true);
      assert.equal(loadConfig({ DATA_DIR: tempDir(), DEMO: '0' }).demo, false);
    });

    it('follows PORT and PUBLIC_URL; https means secure cookies', () => {
      const c = loadConfig({ DATA_DIR: tempDir(), PORT: '8081' });
      assert.equal(c.port, 8081);
      assert.equal(c.publicUrl, 'http://localhost:8081');
      const https = loadConfig({ DATABASE_URL: PG, SESSION_SECRET: strong(), PUBLIC_URL: 'https://kontakt.borlange.example/' });
      assert.equal(https.publicUrl, 'https://kontakt.borlange.example', 'no trailing slash');
      assert.equal(https.cookieSecure, true);
      assert.equal(loadConfig({ DATABASE_URL: PG, SESSION_SECRET: strong(), PUBLIC_URL: 'https://x.example', COOKIE_SECURE: 'false' }).cookieSecure, false);
    });

    it('parses TRUST_PROXY', () => {
      const base = { DATABASE_URL: PG, SESSION_SECRET: strong() };
      assert.equal(loadConfig({ ...base, TRUST_PROXY: 'true' }).trustProxy, true);
      assert.equal(loadConfig({ ...base, TRUST_PROXY: '2' }).trustProxy, 2);
      assert.equal(loadConfig({ ...base, TRUST_PROXY: 'loopback' }).trustProxy, 'loopback');
      assert.equal(loadConfig({ ...base, TRUST_PROXY: 'false' }).trustProxy, false);
    });
  });
});
