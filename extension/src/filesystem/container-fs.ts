/**
 * The container's files for the editor: a FileSystemProvider for
 * berth-container://ID/path over the agent's SFTP, with watches on the
 * agent's watch channel. Errors map to vscode's FileSystemError kinds.
 */
import * as vscode from 'vscode';
import type { SFTPWrapper, Stats } from 'ssh2';
import { parseContainerUri } from '../container-uri';
import type { ConnectionPool } from '../agent/connection-pool';
import { excludesFromGlobs, parseWatchEvent, watchRequestLine } from './watch-events';
import { LineSplitter } from '../runner/log-lines';

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;

function fileType(mode: number): vscode.FileType {
  const t = mode & S_IFMT;
  if (t === S_IFDIR) return vscode.FileType.Directory;
  if (t === S_IFREG) return vscode.FileType.File;
  if (t === S_IFLNK) return vscode.FileType.SymbolicLink;
  return vscode.FileType.Unknown;
}

/** SFTP status codes (ssh2's err.code) to vscode's error kinds. */
function fsError(err: unknown, uri: vscode.Uri): Error {
  const code = (err as { code?: number | string }).code;
  const message = (err as Error).message ?? String(err);
  if (code === 2 || code === 'ENOENT') return vscode.FileSystemError.FileNotFound(uri);
  if (code === 3 || code === 'EACCES') return vscode.FileSystemError.NoPermissions(uri);
  if (code === 11 || code === 'EEXIST') return vscode.FileSystemError.FileExists(uri);
  return new vscode.FileSystemError(`${uri.toString()}: ${message}`);
}

function call<T>(fn: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}

export class ContainerFileSystem implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.emitter.event;

  constructor(private readonly pool: ConnectionPool) {}

  private async sftp(uri: vscode.Uri): Promise<{ sftp: SFTPWrapper; path: string }> {
    const loc = parseContainerUri(uri);
    return { sftp: await this.pool.get(loc.containerId).sftp(), path: loc.path };
  }

  private async lstatFollow(sftp: SFTPWrapper, p: string): Promise<{ stats: Stats; link: boolean }> {
    const l = await call<Stats>((cb) => sftp.lstat(p, cb));
    if ((l.mode & S_IFMT) !== S_IFLNK) return { stats: l, link: false };
    const s = await call<Stats>((cb) => sftp.stat(p, cb)).catch(() => l);
    return { stats: s, link: true };
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const { sftp, path } = await this.sftp(uri);
    try {
      const { stats, link } = await this.lstatFollow(sftp, path);
      const type = fileType(stats.mode) | (link ? vscode.FileType.SymbolicLink : 0);
      return { type, size: stats.size, mtime: stats.mtime * 1000, ctime: stats.mtime * 1000 };
    } catch (err) {
      throw fsError(err, uri);
    }
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    const { sftp, path } = await this.sftp(uri);
    try {
      const list = await call<{ filename: string; attrs: Stats }[]>((cb) => sftp.readdir(path, cb));
      return list
        .filter((e) => e.filename !== '.' && e.filename !== '..')
        .map((e) => {
          const t = fileType(e.attrs.mode);
          // A link's target type is unknown without another round trip: the explorer stats it on expand.
          return [e.filename, t === vscode.FileType.SymbolicLink ? vscode.FileType.SymbolicLink | vscode.FileType.File : t] as [string, vscode.FileType];
        });
    } catch (err) {
      throw fsError(err, uri);
    }
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const { sftp, path } = await this.sftp(uri);
    try {
      return await call<Buffer>((cb) => sftp.readFile(path, cb));
    } catch (err) {
      throw fsError(err, uri);
    }
  }

  async writeFile(uri: vscode.Uri, content: Uint8Array, options: { create: boolean; overwrite: boolean }): Promise<void> {
    const { sftp, path } = await this.sftp(uri);
    const exists = await call<Stats>((cb) => sftp.stat(path, cb)).then(
      () => true,
      () => false,
    );
    if (!exists && !options.create) throw vscode.FileSystemError.FileNotFound(uri);
    if (exists && !options.overwrite) throw vscode.FileSystemError.FileExists(uri);
    try {
      await call<void>((cb) => sftp.writeFile(path, Buffer.from(content), (err) => cb(err, undefined)));
    } catch (err) {
      throw fsError(err, uri);
    }
    this.emitter.fire([{ type: exists ? vscode.FileChangeType.Changed : vscode.FileChangeType.Created, uri }]);
  }

  async createDirectory(uri: vscode.Uri): Promise<void> {
    const { sftp, path } = await this.sftp(uri);
    try {
      await call<void>((cb) => sftp.mkdir(path, (err) => cb(err, undefined)));
    } catch (err) {
      throw fsError(err, uri);
    }
    this.emitter.fire([{ type: vscode.FileChangeType.Created, uri }]);
  }

  async delete(uri: vscode.Uri, options: { recursive: boolean }): Promise<void> {
    const { sftp, path } = await this.sftp(uri);
    const remove = async (p: string): Promise<void> => {
      const s = await call<Stats>((cb) => sftp.lstat(p, cb));
      if ((s.mode & S_IFMT) !== S_IFDIR) return call<void>((cb) => sftp.unlink(p, (err) => cb(err, undefined)));
      if (options.recursive) {
        const list = await call<{ filename: string }[]>((cb) => sftp.readdir(p, cb));
        for (const e of list) if (e.filename !== '.' && e.filename !== '..') await remove(`${p}/${e.filename}`);
      }
      return call<void>((cb) => sftp.rmdir(p, (err) => cb(err, undefined)));
    };
    try {
      await remove(path);
    } catch (err) {
      throw fsError(err, uri);
    }
    this.emitter.fire([{ type: vscode.FileChangeType.Deleted, uri }]);
  }

  async rename(oldUri: vscode.Uri, newUri: vscode.Uri, options: { overwrite: boolean }): Promise<void> {
    const { sftp, path } = await this.sftp(oldUri);
    const target = parseContainerUri(newUri).path;
    const exists = await call<Stats>((cb) => sftp.stat(target, cb)).then(
      () => true,
      () => false,
    );
    if (exists && !options.overwrite) throw vscode.FileSystemError.FileExists(newUri);
    try {
      if (exists) await call<void>((cb) => sftp.unlink(target, (err) => cb(err, undefined)));
      await call<void>((cb) => sftp.rename(path, target, (err) => cb(err, undefined)));
    } catch (err) {
      throw fsError(err, oldUri);
    }
    this.emitter.fire([
      { type: vscode.FileChangeType.Deleted, uri: oldUri },
      { type: vscode.FileChangeType.Created, uri: newUri },
    ]);
  }

  watch(uri: vscode.Uri, options: { readonly recursive: boolean; readonly excludes: readonly string[] }): vscode.Disposable {
    const loc = parseContainerUri(uri);
    let closed = false;
    let channel: import('ssh2').ClientChannel | undefined;
    const globs = vscode.workspace.getConfiguration('files').get<Record<string, boolean>>('watcherExclude') ?? {};
    const exclude = [...new Set([...excludesFromGlobs(globs), ...excludesFromGlobs(Object.fromEntries(options.excludes.map((e) => [e, true])))])];
    void (async () => {
      const conn = this.pool.get(loc.containerId);
      const ch = await conn.subsystem('berth-watch');
      if (closed) return ch.close();
      channel = ch;
      const lines = new LineSplitter();
      ch.on('data', (d: Buffer) => {
        const changes: vscode.FileChangeEvent[] = [];
        for (const line of lines.push(d.toString('utf8'))) {
          const ev = parseWatchEvent(line);
          if (ev?.type === 'change' || ev?.type === 'rename') {
            const changed = uri.with({ path: ev.path });
            // "rename" covers create and delete: the editor stats the file to tell which.
            changes.push({ type: ev.type === 'change' ? vscode.FileChangeType.Changed : vscode.FileChangeType.Created, uri: changed });
            if (ev.type === 'rename') void this.stat(changed).catch(() => this.emitter.fire([{ type: vscode.FileChangeType.Deleted, uri: changed }]));
          }
        }
        if (changes.length) this.emitter.fire(changes);
      });
      // A recursive watch of "/" would walk /proc and /sys: the root is watched one level deep.
      ch.write(watchRequestLine({ path: loc.path, recursive: options.recursive && loc.path !== '/', exclude }));
    })().catch(() => undefined);
    return new vscode.Disposable(() => {
      closed = true;
      channel?.close();
    });
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
