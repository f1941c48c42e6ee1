/**
 * A real HTTP server on 127.0.0.1 for ADD <url> tests: serves the files set
 * in `files` (with their Last-Modified), 404 for others, and records every
 * requested path.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FileServer {
  /** "http://127.0.0.1:PORT". */
  readonly base: string;
  /** Path -> body served, with its Last-Modified. */
  readonly files: Map<string, { body: Buffer; modified: Date }>;
  /** Every requested path, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startFileServer(): Promise<FileServer> {
  const files = new Map<string, { body: Buffer; modified: Date }>();
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const f = files.get(req.url ?? '');
    if (!f) {
      res.writeHead(404).end('no such file');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'last-modified': f.modified.toUTCString() });
    res.end(f.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, files, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
