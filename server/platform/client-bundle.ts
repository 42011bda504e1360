import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RequestHandler } from 'express';
import { PUBLIC_DIR } from './paths.js';

/** The browser script's entry; esbuild bundles it with socket.io-client into one file. */
export const CLIENT_ENTRY = path.join(PUBLIC_DIR, 'js', 'src', 'live.ts');
/** Where `npm run build` puts the bundle; used when present, built in memory otherwise. */
export const CLIENT_BUNDLE = path.join(PUBLIC_DIR, 'js', 'live.js');

export interface ClientBundle {
  code: string;
  etag: string;
}

let building: Promise<ClientBundle> | undefined;

export async function buildClientBundle(opts: { minify?: boolean; outfile?: string } = {}): Promise<string> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [CLIENT_ENTRY],
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
export function clientBundle(preferPrebuilt: boolean): Promise<ClientBundle> {
  building ??= (async () => {
    const code = preferPrebuilt && existsSync(CLIENT_BUNDLE) ? readFileSync(CLIENT_BUNDLE, 'utf8') : await buildClientBundle();
    return { code, etag: `"${createHash('sha256').update(code).digest('base64url').slice(0, 27)}"` };
  })();
  return building;
}

/** Serves the live script from memory with an ETag, so browsers revalidate instead of refetching. */
export function clientBundleHandler(preferPrebuilt: boolean): RequestHandler {
  return async (req, res) => {
    const bundle = await clientBundle(preferPrebuilt);
    res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('ETag', bundle.etag);
    if (req.headers['if-none-match'] === bundle.etag) return void res.status(304).end();
    res.send(bundle.code);
  };
}
