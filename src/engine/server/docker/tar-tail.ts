/**
 * The docker CLI rewrites a build context to add a Dockerfile from outside
 * it (`-f /elsewhere/Dockerfile`) and sends the tar without its last entry's
 * padding or the end-of-archive blocks; Docker's reader accepts that. This
 * pads such a stream to a whole record and ends it properly; a complete
 * archive only gets two more zero blocks, which readers ignore. Compressed
 * contexts (gzip, bzip2, xz, zstd) pass unchanged.
 */
import { pipeline, Transform, type Readable } from 'node:stream';

const BLOCK = 512;
const COMPRESSED = [Buffer.from([0x1f, 0x8b]), Buffer.from('BZh'), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a]), Buffer.from([0x28, 0xb5, 0x2f, 0xfd])];

export function completeTar(input: Readable): Readable {
  let length = 0;
  let head = Buffer.alloc(0);
  const out = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (head.length < 8) head = Buffer.concat([head, chunk.subarray(0, 8)]);
      length += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      if (length === 0 || COMPRESSED.some((magic) => head.subarray(0, magic.length).equals(magic))) return done();
      done(null, Buffer.alloc(((BLOCK - (length % BLOCK)) % BLOCK) + 2 * BLOCK));
    },
  });
  // An error or an early end of the request reaches the reader.
  pipeline(input, out, () => undefined);
  return out;
}
