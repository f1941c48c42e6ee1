/**
 * code-server (npm code-server@4.100.3, installed by scripts/install-code-server
 * into .berth-test/code-server) as the real VS Code of the extension's tests:
 * the .vsix built by @vscode/vsce installed with --install-extension, then
 * served with auth none on 127.0.0.1 and a free port, its user data and
 * extensions in a temp dir. dispose() kills its process group and removes
 * the dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runChecked } from '../../src/common/process/spawn';
import type { Page } from 'playwright-core';
import { launchChromium } from '../support/browser';
import { berthCli, repoRoot } from '../support/repo';

export interface CodeServer {
  readonly url: string;
  readonly dir: string;
  readonly userDataDir: string;
  /** Everything code-server wrote on stdout/stderr so far. */
  output(): string;
  dispose(): Promise<void>;
}

/** User settings that keep a test's workbench quiet (no tips, updates, telemetry or start page). */
export const QUIET_SETTINGS: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  'terminal.integrated.gpuAcceleration': 'off',
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'workbench.tips.enabled': false,
};

export function codeServerBin(): string {
  return path.join(repoRoot(), '.berth-test', 'code-server', 'node_modules', '.bin', 'code-server');
}

/** Installs code-server when missing (about 3 minutes; scripts/setup does it on CI). */
export async function ensureCodeServer(signal?: AbortSignal): Promise<string> {
  const bin = codeServerBin();
  if (!existsSync(bin)) await runChecked([path.join(repoRoot(), 'scripts', 'install-code-server')], signal ? { signal } : {});
  return bin;
}

/** Packs the extension (extension/dist, built by `npm run build`) into a .vsix with @vscode/vsce. */
export async function packExtension(outDir: string): Promise<string> {
  const root = repoRoot();
  const vsix = path.join(outDir, 'berth.vsix');
  await runChecked(
    [process.execPath, path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '-o', vsix],
    { cwd: path.join(root, 'extension') },
  );
  return vsix;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitHealthy(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}: ${output()}`);
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer on ${url}: ${output()}`);
}

export async function startCodeServer(options: { vsix: string; settings: Record<string, unknown>; env?: NodeJS.ProcessEnv }): Promise<CodeServer> {
  const bin = await ensureCodeServer();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-code-server-'));
  const userDataDir = path.join(dir, 'user-data');
  const extensionsDir = path.join(dir, 'extensions');
  await mkdir(path.join(userDataDir, 'User'), { recursive: true });
  await writeFile(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(options.settings, null, 2));
  const common = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];
  const env = { ...(options.env ?? process.env), HOME: dir };
  await runChecked([bin, ...common, '--install-extension', options.vsix], { env });
  const port = await freePort();
  let out = '';
  const child = spawn(
    bin,
    [...common, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--ignore-last-opened'],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const dispose = async (): Promise<void> => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(url, child, () => out);
  } catch (err) {
    await dispose();
    throw err;
  }
  return { url, dir, userDataDir, output: () => out, dispose };
}

export interface Workbench {
  readonly cs: CodeServer;
  readonly page: Page;
  dispose(): Promise<void>;
}

/**
 * The extension packed and installed in code-server with these settings
 * (Berth's CLI as `berth.executable`, QUIET_SETTINGS), and a headless
 * chromium page (1400x900) to drive it.
 */
export async function openWorkbench(outDir: string, settings: Record<string, unknown>): Promise<Workbench> {
  const vsix = await packExtension(outDir);
  const cs = await startCodeServer({ vsix, settings: { 'berth.executable': berthCli(), ...settings, ...QUIET_SETTINGS } });
  const browser = await launchChromium().catch(async (err: unknown) => {
    await cs.dispose();
    throw err;
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(30_000);
  return {
    cs,
    page,
    dispose: async () => {
      await browser.close();
      await cs.dispose();
    },
  };
}
