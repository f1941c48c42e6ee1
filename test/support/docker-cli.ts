/**
 * The real docker CLI against a berthd's Docker socket: runDocker() runs one
 * command and collects its exit code and output; startDockerFixture() is an
 * engine fixture (./engine-fixture) with the busybox image pulled by
 * `docker pull`, whose dispose() removes every container with `docker rm -f`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startEngineFixture, type EngineFixture } from './engine-fixture';

export interface DockerRun {
  /** The exit code, -1 when killed by a signal. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface DockerRunOptions {
  /** Added to the process's environment and DOCKER_HOST (and wins over both). */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Written to stdin, which is then closed (closed at once without it). */
  readonly input?: string | Buffer;
  /** Kills the CLI (SIGTERM) after this long. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** The Docker API socket berthd serves beside its native socket. */
export const dockerSocketOf = (berthSocket: string): string => path.join(path.dirname(berthSocket), 'docker.sock');

/** This process's environment with DOCKER_HOST on `dockerSocket`, for the docker CLI and tools that call it. */
export const dockerEnv = (dockerSocket: string): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: `unix://${dockerSocket}` });

/** `docker ARGS...` on `dockerSocket`; resolves with any exit code, rejects only when docker cannot start. */
export function runDocker(dockerSocket: string, args: readonly string[], options: DockerRunOptions = {}): Promise<DockerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, {
      env: { ...dockerEnv(dockerSocket), ...options.env },
      cwd: options.cwd,
      timeout: options.timeoutMs,
      signal: options.signal,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => stdout.push(d));
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

export interface DockerFixture extends EngineFixture {
  readonly dockerSocket: string;
  /** dockerEnv(dockerSocket). */
  readonly env: NodeJS.ProcessEnv;
  docker(args: readonly string[], options?: DockerRunOptions): Promise<DockerRun>;
}

/** An engine fixture (options.engineArgs go to `berth engine start`) with `docker pull -q` of images.latest done. */
export async function startDockerFixture(prefix: string, options: { engineArgs?: readonly string[] } = {}): Promise<DockerFixture> {
  const engine = await startEngineFixture(prefix, { engineArgs: options.engineArgs });
  const dockerSocket = dockerSocketOf(engine.socket);
  const docker = (args: readonly string[], o: DockerRunOptions = {}): Promise<DockerRun> => runDocker(dockerSocket, args, o);
  const dispose = async (): Promise<void> => {
    const ids = (await docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    if (ids.length) await docker(['rm', '-f', ...ids]);
    await engine.dispose();
  };
  try {
    const r = await docker(['pull', '-q', engine.images.latest]);
    assert.equal(r.code, 0, `docker pull -q ${engine.images.latest}: ${r.stderr}`);
    return { ...engine, dockerSocket, env: dockerEnv(dockerSocket), docker, dispose };
  } catch (err) {
    await dispose().catch(() => undefined);
    throw err;
  }
}
