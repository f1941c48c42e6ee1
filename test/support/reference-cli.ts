/**
 * The reference Dev Containers CLI (@devcontainers/cli) for parity tests:
 * installed by ../shared/anchors/reference-cli.sh (or BERTH_REFERENCE_CLI),
 * or the reason it cannot be, so that a test can skip saying why.
 */
import { execFile } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runBerth } from './cli';
import { repoRoot } from './repo';

export async function findReferenceCli(): Promise<{ bin?: string; why?: string }> {
  const fromEnv = process.env['BERTH_REFERENCE_CLI'];
  if (fromEnv) return { bin: fromEnv };
  // ../shared beside the checkout (a worktree may sit one level deeper).
  const candidates = [path.join(repoRoot(), '..', 'shared'), path.join(repoRoot(), '..', '..', 'shared')].map((d) => path.join(d, 'anchors', 'reference-cli.sh'));
  const script = candidates.find((c) => existsSync(c));
  if (!script) return { why: `none of ${candidates.join(', ')} exists and BERTH_REFERENCE_CLI is not set` };
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('bash', [script], { timeout: 300_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
  const bin = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !(await access(bin, constants.X_OK).then(() => true, () => false))) return { why: `${script} could not install @devcontainers/cli: ${r.stderr.trim().slice(-500)}` };
  return { bin };
}

/** The CLI's one JSON result: the last line of its stdout. */
export function lastJsonLine(r: { code: number; stdout: string; stderr: string }): Record<string, unknown> {
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`no JSON result (exit ${r.code}): ${r.stdout}\n${r.stderr.slice(-3000)}`);
  }
}

export interface ToolRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a tool (the reference CLI, docker) with `env` over this process's; a non-zero exit is a result, not an error. */
export function runTool(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { env: { ...process.env, ...env }, timeout: 300_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(new Error(`cannot run ${file}: ${err.message}`));
      resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
    });
  });
}

/** A berthd of its own (data and sockets in a temp dir) whose Docker API the reference CLI drives. */
export async function startParityEngine(prefix: string): Promise<{ dir: string; socket: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const socket = path.join(dir, 'run', 'berth.sock');
  const r = await runBerth(['engine', 'start', '--data-root', path.join(dir, 'data'), '--socket', socket]);
  if (r.code !== 0) throw new Error(`berth engine start failed: ${r.stdout}${r.stderr}`);
  return { dir, socket };
}

/** Removes every container of the parity engine (through its Docker API), stops it and removes its folder. */
export async function stopParityEngine(dir: string, socket: string): Promise<void> {
  if (socket) {
    const env = { DOCKER_HOST: `unix://${path.join(dir, 'run', 'docker.sock')}` };
    const ids = (await runTool('docker', ['ps', '-aq'], env)).stdout.split('\n').filter(Boolean);
    if (ids.length) await runTool('docker', ['rm', '-f', ...ids], env);
    await runBerth(['engine', 'stop', '--socket', socket]);
  }
  if (dir) await rm(dir, { recursive: true, force: true });
}
