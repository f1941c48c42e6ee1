/**
 * Parity with the reference Dev Containers CLI: `berth read-configuration`
 * and `devcontainer read-configuration` must produce the same
 * `configuration` and `workspace` JSON for every fixture in the corpus.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { berthCli, repoRoot } from '../support/repo';

const exec = promisify(execFile);
const FIXTURES = path.join(repoRoot(), 'test', 'parity', 'fixtures');
const MIN_CORPUS = 35;

interface FixtureMeta {
  /** Config path relative to the workspace, passed with --config. */
  readonly config?: string;
  /** Folder (relative to the fixture) in which to `git init`. */
  readonly git?: string;
  /** Workspace folder relative to the fixture (default: the fixture itself). */
  readonly workspace?: string;
}

const ENV: NodeJS.ProcessEnv = {
  PATH: process.env['PATH'] ?? '/usr/bin:/bin',
  HOME: process.env['HOME'] ?? '/root',
  BERTH_PARITY_A: 'alpha',
  BERTH_PARITY_PATH: '/opt/x',
};

async function referenceCli(): Promise<string> {
  const fromEnv = process.env['BERTH_REFERENCE_CLI'];
  if (fromEnv) return fromEnv;
  const script = path.join(repoRoot(), '..', 'shared', 'anchors', 'reference-cli.sh');
  if (!existsSync(script)) {
    throw new Error(`the reference CLI is needed: set BERTH_REFERENCE_CLI or provide ${script}`);
  }
  const { stdout } = await exec('bash', [script], { timeout: 300_000 });
  return stdout.trim();
}

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function runTool(argv: readonly string[], cwd: string): Promise<Outcome> {
  try {
    const { stdout, stderr } = await exec(argv[0] ?? '', argv.slice(1), { cwd, env: ENV, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

let reference = '';
let work = '';
let manifest: Record<string, FixtureMeta> = {};

before(async () => {
  reference = await referenceCli();
  work = await mkdtemp(path.join(os.tmpdir(), 'berth-parity-'));
  await cp(FIXTURES, work, { recursive: true });
  manifest = JSON.parse(await readFile(path.join(repoRoot(), 'test', 'parity', 'fixtures.json'), 'utf8')) as Record<string, FixtureMeta>;
  for (const [name, meta] of Object.entries(manifest)) {
    if (meta.git !== undefined) await exec('git', ['init', '-q', path.join(work, name, meta.git)]);
  }
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test(`the corpus has at least ${MIN_CORPUS} configurations`, async () => {
  const names = await readdir(FIXTURES);
  assert.ok(names.length >= MIN_CORPUS, `only ${names.length} fixtures`);
});

test('berth read-configuration matches the reference on every fixture', async () => {
  const names = (await readdir(work)).sort();
  const mismatches: string[] = [];
  await pool(names, 4, async (name) => {
    const meta = manifest[name] ?? {};
    const workspace = path.join(work, name, meta.workspace ?? '.');
    const configArgs = meta.config ? ['--config', path.join(workspace, meta.config)] : [];
    const [ours, theirs] = await Promise.all([
      runTool([process.execPath, berthCli(), 'read-configuration', '--workspace-folder', workspace, ...configArgs], workspace),
      runTool([reference, 'read-configuration', '--workspace-folder', workspace, '--docker-path', '/bin/true', ...configArgs], workspace),
    ]);
    if (theirs.code !== 0) {
      mismatches.push(`${name}: the reference failed (${theirs.code}): ${theirs.stderr.slice(-400)}`);
      return;
    }
    if (ours.code !== 0) {
      mismatches.push(`${name}: berth failed (${ours.code}): ${ours.stdout}`);
      return;
    }
    const a = JSON.parse(ours.stdout) as Record<string, unknown>;
    const b = JSON.parse(theirs.stdout) as Record<string, unknown>;
    for (const key of ['configuration', 'workspace']) {
      try {
        assert.deepStrictEqual(a[key], b[key]);
      } catch {
        mismatches.push(`${name}: ${key} differs\n  berth:     ${JSON.stringify(a[key])}\n  reference: ${JSON.stringify(b[key])}`);
      }
    }
  });
  assert.deepEqual(mismatches, [], mismatches.join('\n'));
});

test('malformed JSONC: berth fails with file:line:column (the reference silently accepts it)', async () => {
  const cases: ReadonlyArray<readonly [string, string, RegExp]> = [
    ['missing-comma', '{\n  "image": "debian"\n  "name": "x"\n}', /devcontainer\.json:3:3: error: malformed JSON: expected a comma/],
    ['unterminated-string', '{\n  "image": "debian\n}', /devcontainer\.json:2:12: error: malformed JSON: unterminated string/],
    ['missing-brace', '{\n  "image": "debian",\n  "features": {\n}', /devcontainer\.json:4:2: error: malformed JSON: expected "}"/],
  ];
  for (const [name, text, expected] of cases) {
    const dir = path.join(work, `malformed-${name}`);
    await mkdir(path.join(dir, '.devcontainer'), { recursive: true });
    await writeFile(path.join(dir, '.devcontainer', 'devcontainer.json'), text);
    const ours = await runTool([process.execPath, berthCli(), 'read-configuration', '--workspace-folder', dir], dir);
    assert.equal(ours.code, 1, name);
    const lines = ours.stdout.trim().split('\n');
    assert.equal(lines.length, 1, `${name}: one JSON object on stdout`);
    const out = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    assert.equal(out['outcome'], 'error');
    assert.match(String(out['message']), expected, name);
  }
});
