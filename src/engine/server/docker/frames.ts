/** Docker's multiplexed stream framing: an 8-byte header (stream, 0,0,0, big-endian length) per chunk. */
export const STREAM = { stdin: 0, stdout: 1, stderr: 2 } as const;

export function frame(stream: 'stdout' | 'stderr' | 'stdin', data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt8(STREAM[stream], 0);
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

/** Splits a multiplexed buffer into its frames (for tests and clients). */
export function unframe(buf: Buffer): { stream: number; data: Buffer }[] {
  const out: { stream: number; data: Buffer }[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32BE(off + 4);
    out.push({ stream: buf.readUInt8(off), data: buf.subarray(off + 8, off + 8 + len) });
    off += 8 + len;
  }
  return out;
}
