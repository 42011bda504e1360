import { dropAll, prepareTemplate } from './database.js';

// Root-level hooks: one migrated template per run, dropped at the end.
before(async function () {
  this.timeout(120_000);
  await prepareTemplate();
});

after(async function () {
  this.timeout(60_000);
  await dropAll();
});
