/**
 * Reads the raw PAX `SCHILY.xattr.*` records of a tar stream as it flows
 * past. tar-stream decodes PAX values as UTF-8, which mangles binary xattrs
 * such as `security.capability`; this scanner walks the same headers
 * (mirroring tar-stream's rules for sizes) and keeps the values as bytes, one
 * map per real entry, in archive order.
 */
import { BerthError } from '../../common/errors';

const BLOCK = 512;
const XATTR_PREFIX = 'SCHILY.xattr.';
/** Extended headers larger than this are refused (tar-stream allows 4 MiB). */
const MAX_EXTENDED_HEADER = 1024 * 1024;

export type RawXattrs = ReadonlyMap<string, Buffer>;

function roundUp(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}

function parseSize(block: Buffer): number {
  const field = block.subarray(124, 136);
  if ((field[0] ?? 0) & 0x80) {
    if (field[0] !== 0x80) return Number.NaN;
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + (field[i] ?? 0);
    return n;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/** Parses `LEN key=value\n` records, keeping values as bytes. */
function parsePax(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let rest = buf;
  while (rest.length > 0) {
    const space = rest.indexOf(0x20);
    if (space <= 0) break;
    const len = parseInt(rest.subarray(0, space).toString('latin1'), 10);
    if (!(len > space) || len > rest.length) break;
    const record = rest.subarray(space + 1, len - 1);
    const eq = record.indexOf(0x3d);
    if (eq > 0) out.set(record.subarray(0, eq).toString('utf8'), Buffer.from(record.subarray(eq + 1)));
    rest = rest.subarray(len);
  }
  return out;
}

export class TarXattrScanner {
  private need = BLOCK;
  private parts: Buffer[] = [];
  private have = 0;
  private skip = 0;
  private collecting: 'header' | 'pax' = 'header';
  private paxPadding = 0;
  private pending: Map<string, Buffer> | undefined;
  private readonly queue: RawXattrs[] = [];

  /** The xattrs of the next entry tar-stream emits (empty when it has none). */
  next(): RawXattrs {
    return this.queue.shift() ?? new Map();
  }

  write(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - off);
        this.skip -= n;
        off += n;
        continue;
      }
      const n = Math.min(this.need - this.have, chunk.length - off);
      this.parts.push(chunk.subarray(off, off + n));
      this.have += n;
      off += n;
      if (this.have === this.need) this.complete();
    }
  }

  private complete(): void {
    const data = this.parts.length === 1 ? (this.parts[0] ?? Buffer.alloc(0)) : Buffer.concat(this.parts);
    this.parts = [];
    this.have = 0;
    if (this.collecting === 'pax') {
      const records = parsePax(data);
      this.pending = new Map();
      for (const [k, v] of records) this.pending.set(k, v);
      this.collecting = 'header';
      this.need = BLOCK;
      this.skip = this.paxPadding;
      return;
    }
    this.header(data);
  }

  private header(block: Buffer): void {
    if (block.every((b) => b === 0)) return;
    const type = String.fromCharCode(block[156] ?? 0);
    const size = parseSize(block);
    if (!Number.isFinite(size) || size < 0) return; // tar-stream refuses it
    if (type === 'x') {
      if (size > MAX_EXTENDED_HEADER) throw new BerthError('invalid_argument', `refusing layer: an extended (PAX) header of ${size} bytes`);
      this.paxPadding = roundUp(size) - size;
      if (size === 0) {
        this.pending = new Map();
        return;
      }
      this.collecting = 'pax';
      this.need = size;
      return;
    }
    if (type === 'g' || type === 'L' || type === 'K') {
      if (size > MAX_EXTENDED_HEADER) throw new BerthError('invalid_argument', `refusing layer: an extended header of ${size} bytes`);
      this.skip = roundUp(size);
      return;
    }
    const pax = this.pending;
    this.pending = undefined;
    const xattrs = new Map<string, Buffer>();
    for (const [k, v] of pax ?? []) if (k.startsWith(XATTR_PREFIX)) xattrs.set(k.slice(XATTR_PREFIX.length), v);
    this.queue.push(xattrs);
    const paxSize = pax?.get('size');
    const dataSize = type === '5' ? 0 : paxSize ? parseInt(paxSize.toString('latin1'), 10) : size;
    this.skip = roundUp(Number.isFinite(dataSize) ? dataSize : 0);
  }
}
