/**
 * Turns a layer blob into its tar stream. The compression is read from the
 * blob's first bytes (as Docker does; media types are often wrong) and
 * checked against the media type's family only for unsupported ones.
 * zstd runs through the `zstd` binary (several times faster than the
 * JavaScript decoder), or fzstd where the binary is missing.
 */
import { spawn } from 'node:child_process';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import { BerthError } from '../../common/errors';

const GZIP = Buffer.from([0x1f, 0x8b]);
const ZSTD = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const XZ = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a]);
const BZIP2 = Buffer.from('BZh');

export type Compression = 'gzip' | 'zstd' | 'none';

export function sniffCompression(head: Buffer): Compression {
  if (head.subarray(0, 2).equals(GZIP)) return 'gzip';
  if (head.subarray(0, 4).equals(ZSTD)) return 'zstd';
  if (head.subarray(0, 5).equals(XZ) || head.subarray(0, 3).equals(BZIP2)) {
    throw new BerthError('invalid_argument', 'xz and bzip2 compressed layers are not supported');
  }
  return 'none';
}

/** Decompresses `input`; `mediaType` is kept for error messages. */
export function decompressLayer(mediaType: string, input: Readable, signal?: AbortSignal): Readable {
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  let decided = false;
  const onFirst = (chunk: Buffer): void => {
    if (decided) return;
    decided = true;
    input.pause();
    input.off('data', onFirst);
    input.unshift(chunk);
    let kind: Compression;
    try {
      kind = sniffCompression(chunk);
    } catch (err) {
      out.destroy(err as Error);
      input.destroy();
      return;
    }
    const fail = (err: Error): void => {
      out.destroy(BerthError.is(err) ? err : new BerthError('invalid_argument', `cannot decompress the ${kind} layer (${mediaType}): ${err.message}`, { cause: err }));
    };
    input.on('error', (err) => out.destroy(err));
    // pipe() resumes the paused input once a consumer is attached.
    if (kind === 'none') {
      input.pipe(out);
    } else if (kind === 'gzip') {
      input.pipe(createGunzip({ chunkSize: 256 * 1024 })).on('error', fail).pipe(out);
    } else {
      zstd(input, out, fail, signal);
    }
  };
  input.on('data', onFirst);
  input.once('end', () => {
    if (!decided) out.end(); // an empty blob: the tar parser reports it
  });
  input.once('error', (err) => {
    if (!decided) out.destroy(err);
  });
  return out;
}

function zstd(input: Readable, out: PassThrough, fail: (err: Error) => void, signal?: AbortSignal): void {
  const child = spawn('zstd', ['-dc', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let started = false;
  const onAbort = (): void => {
    child.kill('SIGKILL');
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  child.on('spawn', () => {
    started = true;
    input.pipe(child.stdin);
    child.stdout.pipe(out, { end: false });
  });
  child.stdin.on('error', () => undefined);
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4096)));
  child.on('error', (err: NodeJS.ErrnoException) => {
    signal?.removeEventListener('abort', onAbort);
    if (!started && err.code === 'ENOENT') {
      input.pipe(fzstdTransform()).on('error', fail).pipe(out);
      return;
    }
    fail(err);
  });
  child.on('close', (code) => {
    signal?.removeEventListener('abort', onAbort);
    if (!started) return;
    if (code === 0) out.end();
    else fail(new Error(stderr.trim() || `zstd exited with code ${String(code)}`));
  });
  out.on('close', () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
}

function fzstdTransform(): Transform {
  let push: (chunk: Uint8Array) => void = () => undefined;
  const decoder = new Decompress((chunk) => push(chunk));
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      push = (c) => this.push(Buffer.from(c));
      try {
        decoder.push(chunk);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb) {
      push = (c) => this.push(Buffer.from(c));
      try {
        decoder.push(new Uint8Array(0), true);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}
