/**
 * The sftp subsystem over Node's fs: open/read/write/close, stat family,
 * directories, rename, remove, mkdir, symlinks, realpath, setstat.
 */
import { constants as fsc, type Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { utils, type Attributes, type SFTPWrapper } from 'ssh2';
import type { Logger } from '../../src/common/log';

const { STATUS_CODE, OPEN_MODE } = utils.sftp;

/** SFTP open flags to open(2) flags (every combination, not only the common ones). */
export function openFlags(flags: number): number {
  const read = (flags & OPEN_MODE.READ) !== 0;
  const write = (flags & OPEN_MODE.WRITE) !== 0;
  let out = read && write ? fsc.O_RDWR : write ? fsc.O_WRONLY : fsc.O_RDONLY;
  if (flags & OPEN_MODE.APPEND) out |= fsc.O_APPEND;
  if (flags & OPEN_MODE.CREAT) out |= fsc.O_CREAT;
  if (flags & OPEN_MODE.TRUNC) out |= fsc.O_TRUNC;
  if (flags & OPEN_MODE.EXCL) out |= fsc.O_EXCL;
  return out;
}

interface FileHandle {
  readonly kind: 'file';
  readonly fh: fs.FileHandle;
}
interface DirHandle {
  readonly kind: 'dir';
  readonly path: string;
  entries: string[] | undefined;
}

function statusFor(err: unknown): number {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return STATUS_CODE.NO_SUCH_FILE;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return STATUS_CODE.PERMISSION_DENIED;
    default:
      return STATUS_CODE.FAILURE;
  }
}

export function toAttrs(st: Stats): Attributes {
  return { mode: st.mode, uid: st.uid, gid: st.gid, size: st.size, atime: Math.floor(st.atimeMs / 1000), mtime: Math.floor(st.mtimeMs / 1000) };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An `ls -l` style line, which OpenSSH's sftp client shows for `ls -l`. */
export function longname(name: string, st: Stats): string {
  const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFIFO() ? 'p' : st.isSocket() ? 's' : st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : '-';
  const bits = 'rwxrwxrwx'.split('').map((ch, i) => (st.mode & (1 << (8 - i)) ? ch : '-')).join('');
  const d = st.mtime;
  const date = `${MONTHS[d.getMonth()] ?? ''} ${String(d.getDate()).padStart(2)} ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  return `${type}${bits} ${String(st.nlink).padStart(3)} ${String(st.uid).padEnd(8)} ${String(st.gid).padEnd(8)} ${String(st.size).padStart(8)} ${date} ${name}`;
}

async function applyAttrs(target: string | fs.FileHandle, attrs: Attributes): Promise<void> {
  const isPath = typeof target === 'string';
  if (attrs.mode !== undefined) await (isPath ? fs.chmod(target, attrs.mode & 0o7777) : target.chmod(attrs.mode & 0o7777));
  if (attrs.uid !== undefined && attrs.gid !== undefined) await (isPath ? fs.lchown(target, attrs.uid, attrs.gid) : target.chown(attrs.uid, attrs.gid));
  if (attrs.size !== undefined) await (isPath ? fs.truncate(target, attrs.size) : target.truncate(attrs.size));
  if (attrs.atime !== undefined && attrs.mtime !== undefined) await (isPath ? fs.utimes(target, attrs.atime, attrs.mtime) : target.utimes(attrs.atime, attrs.mtime));
}

export function serveSftp(sftp: SFTPWrapper, options: { logger: Logger }): void {
  const handles = new Map<number, FileHandle | DirHandle>();
  let nextHandle = 1;
  const newHandle = (h: FileHandle | DirHandle): Buffer => {
    const id = nextHandle++;
    handles.set(id, h);
    const buf = Buffer.alloc(4);
    buf.writeUInt32BE(id);
    return buf;
  };
  const lookup = (buf: Buffer): FileHandle | DirHandle | undefined => (buf.length === 4 ? handles.get(buf.readUInt32BE(0)) : undefined);
  const fail = (reqid: number, err: unknown): void => {
    options.logger.debug('sftp request failed', { error: (err as Error).message });
    sftp.status(reqid, statusFor(err), (err as Error).message);
  };
  // Requests are answered one at a time, in order, like OpenSSH's sftp-server:
  // a CLOSE or FSETSTAT must not overtake the WRITEs sent before it.
  let queue: Promise<void> = Promise.resolve();
  const run = (reqid: number, work: () => Promise<void>): void => {
    queue = queue.then(work).catch((err: unknown) => fail(reqid, err));
  };

  sftp.on('OPEN', (reqid, filename, flags, attrs) =>
    run(reqid, async () => {
      const fh = await fs.open(filename, openFlags(flags), attrs.mode !== undefined ? attrs.mode & 0o7777 : 0o644);
      sftp.handle(reqid, newHandle({ kind: 'file', fh }));
    }),
  );
  sftp.on('READ', (reqid, handle, offset, length) =>
    run(reqid, async () => {
      const h = lookup(handle);
      if (h?.kind !== 'file') return void sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
      const buf = Buffer.alloc(Math.min(length, 256 * 1024));
      const { bytesRead } = await h.fh.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) sftp.status(reqid, STATUS_CODE.EOF);
      else sftp.data(reqid, buf.subarray(0, bytesRead));
    }),
  );
  sftp.on('WRITE', (reqid, handle, offset, data) =>
    run(reqid, async () => {
      const h = lookup(handle);
      if (h?.kind !== 'file') return void sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
      let written = 0;
      while (written < data.length) written += (await h.fh.write(data, written, data.length - written, offset + written)).bytesWritten;
      sftp.status(reqid, STATUS_CODE.OK);
    }),
  );
  sftp.on('FSTAT', (reqid, handle) =>
    run(reqid, async () => {
      const h = lookup(handle);
      if (h?.kind !== 'file') return void sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
      sftp.attrs(reqid, toAttrs(await h.fh.stat()));
    }),
  );
  sftp.on('FSETSTAT', (reqid, handle, attrs) =>
    run(reqid, async () => {
      const h = lookup(handle);
      if (h?.kind !== 'file') return void sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
      await applyAttrs(h.fh, attrs);
      sftp.status(reqid, STATUS_CODE.OK);
    }),
  );
  sftp.on('CLOSE', (reqid, handle) =>
    run(reqid, async () => {
      const h = lookup(handle);
      if (!h) return void sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
      handles.delete(handle.readUInt32BE(0));
      if (h.kind === 'file') await h.fh.close();
      sftp.status(reqid, STATUS_CODE.OK);
    }),
  );
  sftp.on('OPENDIR', (reqid, dir) =>
    run(reqid, async () => {
      if (!(await fs.stat(dir)).isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
      sftp.handle(reqid, newHandle({ kind: 'dir', path: dir, entries: undefined }));
    }),
  );
  sftp.on('READDIR', (reqid, handle) =>
    run(reqid, async () => {
      const h = lookup(handle);
      if (h?.kind !== 'dir') return void sftp.status(reqid, STATUS_CODE.FAILURE, 'bad handle');
      h.entries ??= ['.', '..', ...(await fs.readdir(h.path))];
      const batch = h.entries.splice(0, 128);
      if (batch.length === 0) return void sftp.status(reqid, STATUS_CODE.EOF);
      const names = [];
      for (const name of batch) {
        const st = await fs.lstat(path.join(h.path, name)).catch(() => undefined);
        if (st) names.push({ filename: name, longname: longname(name, st), attrs: toAttrs(st) });
      }
      sftp.name(reqid, names);
    }),
  );
  sftp.on('LSTAT', (reqid, p) => run(reqid, async () => void sftp.attrs(reqid, toAttrs(await fs.lstat(p)))));
  sftp.on('STAT', (reqid, p) => run(reqid, async () => void sftp.attrs(reqid, toAttrs(await fs.stat(p)))));
  sftp.on('SETSTAT', (reqid, p, attrs) =>
    run(reqid, async () => {
      await applyAttrs(p, attrs);
      sftp.status(reqid, STATUS_CODE.OK);
    }),
  );
  sftp.on('REMOVE', (reqid, p) =>
    run(reqid, async () => {
      await fs.unlink(p);
      sftp.status(reqid, STATUS_CODE.OK);
    }),
  );
  sftp.on('RMDIR', (reqid, p) =>
    run(reqid, async () => {
      await fs.rmdir(p);
      sftp.status(reqid, STATUS_CODE.OK);
    }),
  );
  sftp.on('MKDIR', (reqid, p, attrs) =>
    run(reqid, async () => {
      await fs.mkdir(p, { mode: attrs.mode !== undefined ? attrs.mode & 0o7777 : 0o755 });
      sftp.status(reqid, STATUS_CODE.OK);
    }),
  );
  sftp.on('RENAME', (reqid, from, to) =>
    run(reqid, async () => {
      // SFTP v3 rename must not replace an existing file.
      if (await fs.lstat(to).then(() => true, () => false)) throw Object.assign(new Error(`${to} exists`), { code: 'EEXIST' });
      await fs.rename(from, to);
      sftp.status(reqid, STATUS_CODE.OK);
    }),
  );
  sftp.on('READLINK', (reqid, p) =>
    run(reqid, async () => {
      const target = await fs.readlink(p);
      sftp.name(reqid, [{ filename: target, longname: target, attrs: {} as Attributes }]);
    }),
  );
  // ssh2 already puts OpenSSH's swapped arguments back in protocol order.
  sftp.on('SYMLINK', (reqid, link, target) =>
    run(reqid, async () => {
      await fs.symlink(target, link);
      sftp.status(reqid, STATUS_CODE.OK);
    }),
  );
  sftp.on('REALPATH', (reqid, p) =>
    run(reqid, async () => {
      const resolved = p === '' || p === '.' ? process.cwd() : path.resolve(process.cwd(), p);
      const real = await fs.realpath(resolved).catch(() => resolved);
      sftp.name(reqid, [{ filename: real, longname: real, attrs: {} as Attributes }]);
    }),
  );
  // The client closed its side: report exit status 0 like OpenSSH's sftp-server
  // (scp treats a missing status as failure), then close ours. ssh2 exposes
  // no public call for a subsystem's exit status, hence the narrow cast.
  sftp.on('end', () => {
    const channel = sftp as unknown as { _protocol?: { exitStatus?: (id: number, code: number) => void }; outgoing?: { id?: number; state?: string } };
    if (channel.outgoing?.id !== undefined && channel.outgoing.state === 'open') channel._protocol?.exitStatus?.(channel.outgoing.id, 0);
    sftp.end();
  });
  sftp.on('close', () => {
    for (const h of handles.values()) if (h.kind === 'file') void h.fh.close().catch(() => undefined);
    handles.clear();
  });
}

