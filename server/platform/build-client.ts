import { writeFileSync } from 'node:fs';
import { buildClientBundle, CLIENT_BUNDLE } from './client-bundle.js';

/** `npm run build`: bundles the browser script to public/js/live.js for production. */
writeFileSync(CLIENT_BUNDLE, await buildClientBundle());
console.log(`wrote ${CLIENT_BUNDLE}`);
