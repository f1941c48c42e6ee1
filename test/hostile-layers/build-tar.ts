/** Builds layer tars in memory with tar-stream's pack, and a canary dir to prove nothing escaped. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pack, type Header } from 'tar-stream';

export interface TarEntry {
  readonly name: string;
  readonly type?: Header['type'];
  readonly body?: string | Buffer;
  readonly linkname?: string;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly mtime?: Date;
  readonly devmajor?: number;
  readonly devminor?: number;
  readonly pax?: Record<string, string>;
  /** Claimed size, for entries whose header lies. */
  readonly size?: number;
}

export async function buildTar(entries: readonly TarEntry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    p.on('data', (c: unknown) => void chunks.push(c as Buffer));
    p.on('end', resolve);
    p.on('error', reject);
  });
  for (const { body, ...header } of entries) {
    const type = header.type ?? 'file';
    const data = body === undefined ? (type === 'file' ? Buffer.alloc(0) : undefined) : Buffer.from(body);
    await new Promise<void>((resolve, reject) => {
      const h = { mode: type === 'directory' ? 0o755 : 0o644, mtime: new Date(1_600_000_000_000), ...header, type, size: header.size ?? data?.length ?? 0 } as Header;
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (data) p.entry(h, data, cb);
      else p.entry(h, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

export function streamOf(buf: Buffer): Readable {
  return Readable.from([buf]);
}

/** A temp dir with `target/` (where layers go) and `canary/` beside it, holding one file. */
export interface Sandbox {
  readonly dir: string;
  readonly target: string;
  readonly canary: string;
  /** Fails if anything appeared, vanished or changed outside `target`. */
  assertUntouched(): Promise<void>;
  dispose(): Promise<void>;
}

export async function sandbox(): Promise<Sandbox> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-layer-'));
  const target = path.join(dir, 'target');
  const canary = path.join(dir, 'canary');
  await mkdir(target);
  await mkdir(canary);
  await writeFile(path.join(canary, 'keep'), 'keep');
  return {
    dir,
    target,
    canary,
    async assertUntouched() {
      assert.deepEqual((await readdir(dir)).sort(), ['canary', 'target']);
      assert.deepEqual(await readdir(canary), ['keep']);
      assert.equal(await readFile(path.join(canary, 'keep'), 'utf8'), 'keep');
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
