import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ApiClient } from './client';

// A server answers every request with `pieces`, each written on its own after a pause.
describe('ApiClient.stream (NDJSON lines)', () => {
  let dir: string;
  let server: http.Server;
  let pieces: (string | Buffer)[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-client-stream-'));
    server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const next = (i: number): void => {
        if (i === pieces.length) return void res.end();
        res.write(pieces[i], () => setTimeout(() => next(i + 1), 2));
      };
      next(0);
    });
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'api.sock'), resolve));
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const read = async (): Promise<unknown[]> => {
    const client = new ApiClient({ socketPath: path.join(dir, 'api.sock') });
    const out: unknown[] = [];
    for await (const m of client.stream('imageBuild', { body: Readable.from([]) })) out.push(m);
    return out;
  };

  it('yields each line once whole: split lines, CRLF, blank lines, a last line without a newline', async () => {
    pieces = ['{"a":1}\r\n{"b"', ':2}\n\n', '  \n{"c":"x', 'y"}\r\n{"d":4}'];
    assert.deepEqual(await read(), [{ a: 1 }, { b: 2 }, { c: 'xy' }, { d: 4 }]);
  });

  it('keeps a character whose UTF-8 bytes arrive in two pieces', async () => {
    const bytes = Buffer.from('{"s":"€"}\n');
    pieces = [bytes.subarray(0, 7), bytes.subarray(7)];
    assert.deepEqual(await read(), [{ s: '€' }]);
  });

  it('joins a long line that arrives in many pieces', async () => {
    const long = 'z'.repeat(1 << 20);
    const line = `${JSON.stringify({ long })}\n`;
    pieces = [];
    for (let i = 0; i < line.length; i += 50_000) pieces.push(line.slice(i, i + 50_000));
    pieces.push('{"end":true}\n');
    assert.deepEqual(await read(), [{ long }, { end: true }]);
  });
});
