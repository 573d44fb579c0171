/**
 * The status page's files (assets/status-page/ in the package: HTML, CSS and a script that
 * draws its charts as SVG), found beside the package.json above this module (src/ or
 * dist/src/) and read once. Nothing is fetched from elsewhere: the page works offline.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

function pageDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = path.join(dir, 'assets', 'status-page');
    try {
      readFileSync(path.join(candidate, 'index.html'));
      return candidate;
    } catch {
      dir = path.dirname(dir);
    }
  }
  throw new Error('assets/status-page/ is missing from the tailship package');
}

const cache = new Map<string, { type: string; body: Buffer }>();

/** One of the page's files ("/index.html", "/status.js", "/status.css"): its content type and bytes. */
export function pageAsset(name: string): { type: string; body: Buffer } {
  let asset = cache.get(name);
  if (!asset) {
    const dir = pageDir();
    asset = { type: TYPES[path.extname(name)] ?? 'application/octet-stream', body: readFileSync(path.join(dir, path.basename(name))) };
    cache.set(name, asset);
  }
  return asset;
}
