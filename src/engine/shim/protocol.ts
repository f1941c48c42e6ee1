/**
 * berth-shim's attach protocol (see berth-shim.c): frames of a 1-byte type,
 * a 4-byte big-endian length and the payload; and its exit file.
 */
import { readFile } from 'node:fs/promises';

export const MAX_FRAME = 65536;

/** Client to shim. */
export const ClientFrame = { stdin: 1, closeStdin: 2, resize: 3, signal: 4 } as const;
/** Shim to client. */
export const ShimFrame = { stdout: 1, stderr: 2, exit: 3 } as const;

export interface ExitStatus {
  /** The exit code, or 128 + the signal number. */
  readonly exitCode: number;
  /** The signal that ended the process, or null. */
  readonly signal: number | null;
  readonly pid: number;
  readonly finishedAt: string;
}

export function encodeFrame(type: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  if (payload.length > MAX_FRAME) throw new RangeError(`frame payload over ${MAX_FRAME} bytes`);
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/**
 * Splits data into stdin frames of at most MAX_FRAME bytes, as pieces to write
 * in order (each frame's header, then its payload: a view of data, not a copy).
 */
export function stdinFrames(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += MAX_FRAME) {
    const payload = data.subarray(i, i + MAX_FRAME);
    const head = Buffer.alloc(5);
    head[0] = ClientFrame.stdin;
    head.writeUInt32BE(payload.length, 1);
    out.push(head, payload);
  }
  return out;
}

export function resizeFrame(rows: number, cols: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt16BE(Math.max(0, Math.min(65535, Math.floor(rows))), 0);
  p.writeUInt16BE(Math.max(0, Math.min(65535, Math.floor(cols))), 2);
  return encodeFrame(ClientFrame.resize, p);
}

/** Incremental decoder: push bytes, get the complete frames. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { type: number; payload: Buffer }[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: { type: number; payload: Buffer }[] = [];
    let off = 0;
    while (this.pending.length - off >= 5) {
      const len = this.pending.readUInt32BE(off + 1);
      if (len > MAX_FRAME) throw new RangeError(`frame of ${len} bytes`);
      if (this.pending.length - off < 5 + len) break;
      frames.push({ type: this.pending[off] ?? 0, payload: this.pending.subarray(off + 5, off + 5 + len) });
      off += 5 + len;
    }
    this.pending = this.pending.subarray(off);
    return frames;
  }
}

export function parseExit(text: string): ExitStatus {
  const v = JSON.parse(text) as Partial<ExitStatus>;
  return {
    exitCode: typeof v.exitCode === 'number' ? v.exitCode : 255,
    signal: typeof v.signal === 'number' ? v.signal : null,
    pid: typeof v.pid === 'number' ? v.pid : 0,
    finishedAt: typeof v.finishedAt === 'string' ? v.finishedAt : new Date().toISOString(),
  };
}

/** The exit file, or undefined while there is none. */
export async function readExit(file: string): Promise<ExitStatus | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseExit(text);
}
