import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { test } from 'node:test';
import { extract, pack } from 'tar-stream';
import { completeTar } from './tar-tail';

async function names(input: Readable): Promise<string[]> {
  const out: string[] = [];
  const ex = extract();
  ex.on('entry', (h, stream, next) => {
    out.push(h.name);
    stream.on('end', () => next());
    stream.resume();
  });
  input.pipe(ex);
  await new Promise<void>((resolve, reject) => ex.on('finish', () => resolve()).on('error', reject));
  return out;
}

async function tarBytes(): Promise<Buffer> {
  const p = pack();
  p.entry({ name: 'Dockerfile' }, 'FROM x\n');
  p.entry({ name: '.dockerignore' }, 'node_modules\n');
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

test("a context cut after its last entry's data (as the docker CLI sends it with -f elsewhere) reads whole", async () => {
  const full = await tarBytes();
  // The last entry's data ends 13 bytes into its record: cut the padding and the end blocks.
  const cut = full.subarray(0, full.length - 1024 - (512 - 13));
  await assert.rejects(names(Readable.from([cut])));
  assert.deepEqual(await names(completeTar(Readable.from([cut]))), ['Dockerfile', '.dockerignore']);
  assert.deepEqual(await names(completeTar(Readable.from([full]))), ['Dockerfile', '.dockerignore']);
});

test('a compressed context passes unchanged', async () => {
  const gz = Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]);
  assert.equal(await text(completeTar(Readable.from([gz]))), gz.toString());
});
