/**
 * A Remote-SSH window on a container: the `Host` block that `berth
 * ssh-config` prints goes into a file Berth owns (~/.ssh/berth/config, one
 * block per container, replaced on each write), the user's ~/.ssh/config
 * gets one `Include` line for it at the top (other lines are never
 * rewritten), and the window opens vscode-remote://ssh-remote+HOST/FOLDER.
 * No vscode import: unit-tested on real files.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The files: the user's ssh config and Berth's own, under one ~/.ssh. */
export interface SshConfigFiles {
  readonly userConfig: string;
  readonly berthConfig: string;
}

export function sshConfigFiles(home: string): SshConfigFiles {
  const dir = path.join(home, '.ssh');
  return { userConfig: path.join(dir, 'config'), berthConfig: path.join(dir, 'berth', 'config') };
}

/** The `Host` aliases of a config text (the first word of each Host line). */
export function hostAliases(block: string): string[] {
  return [...block.matchAll(/^[ \t]*Host[ \t]+(\S+)/gim)].map((m) => m[1] ?? '');
}

/** Text of a Berth config with this block's hosts replaced (or added); other blocks kept in order. */
export function mergeHostBlock(existing: string, block: string): string {
  const replaced = new Set(hostAliases(block));
  const kept: string[] = [];
  let skipping = false;
  for (const line of existing.split('\n')) {
    const start = /^[ \t]*(Host|Match)[ \t]+(\S+)/i.exec(line);
    if (start) skipping = (start[1] ?? '').toLowerCase() === 'host' && replaced.has(start[2] ?? '');
    if (!skipping) kept.push(line);
  }
  const rest = kept.join('\n').replace(/\n+$/, '');
  return `${rest ? `${rest}\n\n` : ''}${block.replace(/\n+$/, '')}\n`;
}

function expandHome(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? path.join(home, p.slice(2)) : p;
}

/** Whether a ssh config text Includes the file (as written, with ~, or relative to ~/.ssh). */
export function includesFile(configText: string, file: string, home: string): boolean {
  for (const m of configText.matchAll(/^[ \t]*Include[ \t]+(.+)$/gim)) {
    for (const word of (m[1] ?? '').trim().split(/[ \t]+/)) {
      const unquoted = word.replace(/^"(.*)"$/, '$1');
      const abs = expandHome(unquoted, home);
      if (path.resolve(path.isAbsolute(abs) ? abs : path.join(home, '.ssh', abs)) === path.resolve(file)) return true;
    }
  }
  return false;
}

/** The Include line for Berth's file, as ~/.ssh/config should start with it. */
export function includeLine(file: string, home: string): string {
  const rel = path.relative(home, file);
  const shown = !rel.startsWith('..') && !path.isAbsolute(rel) ? `~/${rel.split(path.sep).join('/')}` : file;
  return `Include ${/\s/.test(shown) ? `"${shown}"` : shown}`;
}

/**
 * ~/.ssh/config with the Include line first (an Include after a Host line
 * would apply to that host only); the existing text follows byte for byte.
 */
export function withInclude(configText: string, file: string, home: string): string {
  if (includesFile(configText, file, home)) return configText;
  return `# Added by Berth: the hosts of its dev containers (berth ssh-config)\n${includeLine(file, home)}\n\n${configText}`;
}

async function readOrEmpty(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** Writes (or replaces) the block in Berth's file, mode 0600 in a 0700 directory. */
export async function writeBerthHosts(files: SshConfigFiles, block: string): Promise<void> {
  await mkdir(path.dirname(files.berthConfig), { recursive: true, mode: 0o700 });
  await writeFile(files.berthConfig, mergeHostBlock(await readOrEmpty(files.berthConfig), block), { mode: 0o600 });
}

export async function userConfigIncludesBerth(files: SshConfigFiles, home: string): Promise<boolean> {
  return includesFile(await readOrEmpty(files.userConfig), files.berthConfig, home);
}

/** Adds the Include line to the user's ssh config (creating it, 0600, if there is none). */
export async function addInclude(files: SshConfigFiles, home: string): Promise<void> {
  await mkdir(path.dirname(files.userConfig), { recursive: true, mode: 0o700 });
  const text = await readOrEmpty(files.userConfig);
  const next = withInclude(text, files.berthConfig, home);
  if (next !== text) await writeFile(files.userConfig, next, { mode: 0o600 });
}

/**
 * The folder URI of a Remote-SSH window: vscode-remote://ssh-remote+HOST/PATH.
 * A host with characters an authority cannot carry is given hex-encoded as
 * {"hostName": HOST}, as Remote-SSH reads it.
 */
export function remoteSshUri(host: string, folder: string): string {
  const authority = /^[A-Za-z0-9._-]+$/.test(host) ? host : Buffer.from(JSON.stringify({ hostName: host }), 'utf8').toString('hex');
  const p = folder.startsWith('/') ? folder : `/${folder}`;
  return `vscode-remote://ssh-remote+${authority}${p.split('/').map(encodeURIComponent).join('/')}`;
}
