import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RequestHandler } from 'express';
import { PUBLIC_DIR } from './paths.js';

/**
 * The browser scripts, each bundled by esbuild into one file: `live` (the
 * live workspace, with socket.io-client) on most staff pages, and `charts`
 * (Chart.js) only on the statistics pages that draw charts.
 */
export const CLIENT_BUNDLES = {
  live: { entry: path.join(PUBLIC_DIR, 'js', 'src', 'live.ts'), out: path.join(PUBLIC_DIR, 'js', 'live.js') },
  charts: { entry: path.join(PUBLIC_DIR, 'js', 'src', 'charts.ts'), out: path.join(PUBLIC_DIR, 'js', 'charts.js') },
} as const;
export type BundleName = keyof typeof CLIENT_BUNDLES;

export interface ClientBundle {
  code: string;
  etag: string;
}

const building = new Map<BundleName, Promise<ClientBundle>>();

export async function buildClientBundle(opts: { minify?: boolean; outfile?: string; name?: BundleName } = {}): Promise<string> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [CLIENT_BUNDLES[opts.name ?? 'live'].entry],
    bundle: true,
    format: 'iife',
    target: 'es2020',
    minify: opts.minify ?? true,
    sourcemap: false,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/**
 * The bundle, built once per process. In production a bundle made by
 * `npm run build` is used when present, so no bundler runs at start; elsewhere
 * it is always built from the source, never stale.
 */
export function clientBundle(preferPrebuilt: boolean, name: BundleName = 'live'): Promise<ClientBundle> {
  let bundle = building.get(name);
  if (!bundle) {
    const out = CLIENT_BUNDLES[name].out;
    bundle = (async () => {
      const code = preferPrebuilt && existsSync(out) ? readFileSync(out, 'utf8') : await buildClientBundle({ name });
      return { code, etag: `"${createHash('sha256').update(code).digest('base64url').slice(0, 27)}"` };
    })();
    building.set(name, bundle);
  }
  return bundle;
}

/** Serves a browser script from memory with an ETag, so browsers revalidate instead of refetching. */
export function clientBundleHandler(preferPrebuilt: boolean, name: BundleName = 'live'): RequestHandler {
  return async (req, res) => {
    const bundle = await clientBundle(preferPrebuilt, name);
    res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('ETag', bundle.etag);
    if (req.headers['if-none-match'] === bundle.etag) return void res.status(304).end();
    res.send(bundle.code);
  };
}
