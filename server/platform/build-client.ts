import { writeFileSync } from 'node:fs';
import { buildClientBundle, CLIENT_BUNDLES, type BundleName } from './client-bundle.js';

/** `npm run build`: bundles the browser scripts to public/js/*.js for production. */
for (const name of Object.keys(CLIENT_BUNDLES) as BundleName[]) {
  writeFileSync(CLIENT_BUNDLES[name].out, await buildClientBundle({ name }));
  console.log(`wrote ${CLIENT_BUNDLES[name].out}`);
}
