/**
 * A berthd of a test file's own: a temp dir with its data root and socket,
 * a local registry with the busybox test images, and `berth` bound to that
 * socket. dispose() removes every container, stops the engine and the
 * registry and removes the dir.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runBerth, singleJson, type CliRun } from './cli';
import { startRegistry, type Registry } from './registry';
import { ensureTestImages, type TestImages } from './test-images';

export interface EngineFixture {
  readonly dir: string;
  readonly socket: string;
  readonly registry: Registry;
  readonly images: TestImages;
  /** `berth VERB --socket S ARGS...`: the socket goes before any `--`, never to a command in a container. */
  berth(args: readonly string[], options?: { env?: NodeJS.ProcessEnv }): Promise<CliRun>;
  /** `berth engine start` (again, after a stop or a kill) on the same data root, socket and engineArgs; answers berthd's pid. */
  startEngine(): Promise<number>;
  dispose(): Promise<void>;
}

/** options.engineArgs go to `berth engine start` after --data-root and --socket. */
export async function startEngineFixture(prefix: string, options: { pull?: boolean; engineArgs?: readonly string[] } = {}): Promise<EngineFixture> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const socket = path.join(dir, 'run', 'berth.sock');
  const registry = await startRegistry();
  const berth = (args: readonly string[], o: { env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> => runBerth([args[0] ?? '', '--socket', socket, ...args.slice(1)], o);
  const startEngine = async (): Promise<number> => {
    const r = await runBerth(['engine', 'start', '--data-root', path.join(dir, 'data'), '--socket', socket, ...(options.engineArgs ?? [])]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return singleJson(r.stdout)['pid'] as number;
  };
  const dispose = async (): Promise<void> => {
    const list = await berth(['container', 'ps', '--all']);
    for (const c of (singleJson(list.stdout)['containers'] ?? []) as { id: string }[]) await berth(['container', 'rm', c.id, '--force']);
    await runBerth(['engine', 'stop', '--socket', socket]);
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const images = await ensureTestImages(registry);
    await startEngine();
    if (options.pull) {
      const p = await berth(['pull', images.latest]);
      assert.equal(p.code, 0, p.stdout + p.stderr);
    }
    return { dir, socket, registry, images, berth, startEngine, dispose };
  } catch (err) {
    await dispose().catch(() => undefined);
    throw err;
  }
}
