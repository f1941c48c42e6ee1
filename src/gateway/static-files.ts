/** The dashboard's files (built by scripts/build.mjs into dist/dashboard), served read-only from one folder. */
import { readFile } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

/** Serves GET / and /NAME.ext from `dir`; false when the path is not a dashboard file. */
export async function serveStatic(dir: string, pathname: string, res: http.ServerResponse): Promise<boolean> {
  const name = pathname === '/' ? 'index.html' : pathname.slice(1);
  if (!/^[\w.-]+$/.test(name) || name.startsWith('.')) return false;
  const type = TYPES[path.extname(name)];
  if (!type) return false;
  const body = await readFile(path.join(dir, name)).catch(() => undefined);
  if (!body) return false;
  res.writeHead(200, {
    'content-type': type,
    'content-length': body.length,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  });
  res.end(body);
  return true;
}
