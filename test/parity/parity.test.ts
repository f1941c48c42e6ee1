/**
 * Parity with the reference Dev Containers CLI (@devcontainers/cli 0.89.0):
 * `berth read-configuration` and `devcontainer read-configuration` must print
 * the same `configuration` and `workspace` JSON for every fixture in
 * test/parity/fixtures. The fixtures are copied into a fresh temporary folder
 * first, so both tools see the same absolute paths; fixtures that need a git
 * repository (a nested .git cannot be committed) get one there.
 *
 * The reference CLI: $BERTH_REFERENCE_CLI, else the path printed by
 * ../shared/anchors/reference-cli.sh (which installs it once). Without it the
 * tests fail; they are never skipped.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { constants, existsSync, readdirSync, statSync } from 'node:fs';
import { access, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { berthCli, repoRoot } from '../support/repo';

const exec = promisify(execFile);
const PARITY = path.join(repoRoot(), 'test', 'parity');
const FIXTURES = path.join(PARITY, 'fixtures');
const MIN_CORPUS = 35;
const CONCURRENCY = 4;

/** test/parity/fixtures.json: how to run the fixtures that need more than `--workspace-folder <fixture>`. */
interface FixtureMeta {
  /** Config file relative to the workspace folder, passed (made absolute) with --config. */
  readonly config?: string;
  /** Folder, relative to the fixture, in which to `git init` before the run. */
  readonly git?: string;
  /** Workspace folder relative to the fixture (default: the fixture itself). */
  readonly workspace?: string;
}

/**
 * The same fixed environment for both tools, so `${localEnv:...}` is deterministic.
 * BERTH_PARITY_MISSING and BERTH_PARITY_TARGET are deliberately unset.
 */
const ENV: NodeJS.ProcessEnv = {
  PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
  HOME: process.env['HOME'] ?? '/root',
  LANG: 'C.UTF-8',
  BERTH_PARITY_A: 'alpha',
  BERTH_PARITY_PATH: '/opt/x',
  BERTH_PARITY_UID: '4242',
  BERTH_PARITY_EMPTY: '',
  // A value that looks like more variables: it must be inserted verbatim, not substituted again.
  BERTH_PARITY_SPECIAL: 'a,b=c "q" \\ ${localWorkspaceFolder} $HOME ${localEnv:BERTH_PARITY_A}',
};

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(file: string, args: readonly string[], cwd: string): Promise<Outcome> {
  try {
    const { stdout, stderr } = await exec(file, [...args], { cwd, env: ENV, timeout: 60_000, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string; message?: string };
    if (typeof e.code !== 'number') throw new Error(`could not run ${file}: ${e.message ?? String(err)}`);
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

let referencePath: Promise<string> | undefined;

/** The reference `devcontainer` binary, or an error that says how to provide it. */
function referenceCli(): Promise<string> {
  referencePath ??= (async () => {
    const fromEnv = process.env['BERTH_REFERENCE_CLI'];
    if (fromEnv) {
      await access(fromEnv, constants.X_OK).catch(() => {
        throw new Error(`BERTH_REFERENCE_CLI=${fromEnv} is not an executable file`);
      });
      return fromEnv;
    }
    const script = path.join(repoRoot(), '..', 'shared', 'anchors', 'reference-cli.sh');
    if (!existsSync(script)) {
      throw new Error(`the parity test needs the reference Dev Containers CLI: set BERTH_REFERENCE_CLI to its devcontainer binary, or provide ${script}`);
    }
    let printed: string;
    try {
      printed = (await exec('bash', [script], { timeout: 600_000 })).stdout.trim();
    } catch (err) {
      const e = err as { stderr?: string; message?: string };
      throw new Error(`${script} failed, so the reference CLI is missing (set BERTH_REFERENCE_CLI to bypass it): ${e.stderr || e.message}`);
    }
    const bin = printed.split('\n').pop() ?? '';
    await access(bin, constants.X_OK).catch(() => {
      throw new Error(`${script} printed ${JSON.stringify(printed)}, which is not an executable file`);
    });
    return bin;
  })();
  return referencePath;
}

function berth(): string {
  const cli = berthCli();
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run 'npm run build' first`);
  return cli;
}

const runBerth = (args: readonly string[], cwd: string) => run(process.execPath, [berth(), 'read-configuration', ...args], cwd);
const runReference = async (args: readonly string[], cwd: string) => run(await referenceCli(), ['read-configuration', ...args, '--docker-path', '/bin/true'], cwd);

/** The one JSON object a tool printed on stdout. */
function oneJsonObject(tool: string, stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) throw new Error(`${tool} printed ${lines.length} lines on stdout, not one JSON line:\n${stdout}`);
  const value = JSON.parse(lines[0] ?? '') as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${tool} printed ${lines[0]}, not a JSON object`);
  return value as Record<string, unknown>;
}

/** Property paths where two JSON values differ, with both sides (key order is ignored, as deepStrictEqual does). */
function differences(ours: unknown, theirs: unknown, at: string, out: string[]): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (Array.isArray(ours) && Array.isArray(theirs)) {
    if (ours.length !== theirs.length) {
      out.push(`${at}: berth has ${ours.length} items, the reference ${theirs.length}\n      berth:     ${JSON.stringify(ours)}\n      reference: ${JSON.stringify(theirs)}`);
    } else {
      ours.forEach((v, i) => differences(v, theirs[i], `${at}[${i}]`, out));
    }
  } else if (isObject(ours) && isObject(theirs)) {
    for (const key of new Set([...Object.keys(theirs), ...Object.keys(ours)])) {
      const sub = /^[A-Za-z_$][\w$]*$/.test(key) ? `${at}.${key}` : `${at}[${JSON.stringify(key)}]`;
      if (!(key in ours)) out.push(`${sub}: missing in berth; the reference has ${JSON.stringify(theirs[key])}`);
      else if (!(key in theirs)) out.push(`${sub}: berth has ${JSON.stringify(ours[key])}; missing in the reference`);
      else differences(ours[key], theirs[key], sub, out);
    }
  } else if (!Object.is(ours, theirs)) {
    out.push(`${at}: berth ${JSON.stringify(ours)} ≠ reference ${JSON.stringify(theirs)}`);
  }
  return out;
}

async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(limit, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

async function readManifest(): Promise<Record<string, FixtureMeta>> {
  return JSON.parse(await readFile(path.join(PARITY, 'fixtures.json'), 'utf8')) as Record<string, FixtureMeta>;
}

function fixtureNames(): string[] {
  return readdirSync(FIXTURES)
    .filter((name) => statSync(path.join(FIXTURES, name)).isDirectory())
    .sort();
}

const temps: string[] = [];
after(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function freshTemp(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

test(`the corpus has at least ${MIN_CORPUS} configurations, each runnable`, async () => {
  const names = fixtureNames();
  assert.ok(names.length >= MIN_CORPUS, `only ${names.length} fixtures in ${FIXTURES}`);
  const manifest = await readManifest();
  for (const name of Object.keys(manifest)) assert.ok(names.includes(name), `fixtures.json names ${name}, which is not a fixture`);
  for (const name of names) {
    const meta = manifest[name] ?? {};
    const workspace = path.join(FIXTURES, name, meta.workspace ?? '.');
    const candidates = meta.config
      ? [meta.config]
      : [path.join('.devcontainer', 'devcontainer.json'), '.devcontainer.json'];
    assert.ok(
      candidates.some((c) => existsSync(path.join(workspace, c))),
      `${name}: no ${candidates.join(' or ')} in ${workspace} (name a --config in fixtures.json)`,
    );
  }
});

test('berth read-configuration prints the same configuration and workspace as the reference on every fixture', async () => {
  const reference = await referenceCli();
  berth();
  const manifest = await readManifest();
  const work = await freshTemp('berth-parity-');
  await cp(FIXTURES, work, { recursive: true });
  for (const [name, meta] of Object.entries(manifest)) {
    if (meta.git !== undefined) await exec('git', ['init', '-q', path.join(work, name, meta.git)]);
  }

  const names = fixtureNames();
  const failures: string[] = [];
  let compared = 0;
  await pool(names, CONCURRENCY, async (name) => {
    const meta = manifest[name] ?? {};
    const workspace = path.join(work, name, meta.workspace ?? '.');
    const args = ['--workspace-folder', workspace, ...(meta.config ? ['--config', path.join(workspace, meta.config)] : [])];
    const [ours, theirs] = await Promise.all([runBerth(args, workspace), runReference(args, workspace)]);
    if (theirs.code !== 0) {
      failures.push(`${name}: the reference CLI (${reference}) exited ${theirs.code}; every fixture must be valid for it:\n${theirs.stderr.trim().split('\n').slice(-5).join('\n')}`);
      return;
    }
    if (ours.code !== 0) {
      failures.push(`${name}: berth exited ${ours.code}: ${ours.stdout.trim()} ${ours.stderr.trim()}`);
      return;
    }
    let a: Record<string, unknown>;
    let b: Record<string, unknown>;
    try {
      a = oneJsonObject('berth', ours.stdout);
      b = oneJsonObject('the reference', theirs.stdout);
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
      return;
    }
    for (const key of ['configuration', 'workspace']) {
      try {
        assert.deepStrictEqual(a[key], b[key]);
      } catch {
        const diff = differences(a[key], b[key], key, []);
        failures.push(`${name}: ${key} differs\n    ${diff.join('\n    ')}`);
      }
    }
    compared++;
  });
  failures.sort();
  assert.equal(failures.length, 0, `${failures.length} of ${names.length} fixtures differ from the reference:\n\n${failures.join('\n\n')}`);
  assert.equal(compared, names.length);
});

interface Malformed {
  readonly name: string;
  readonly text: string;
  /** Where berth must report the first error (1-based). */
  readonly at: readonly [line: number, column: number];
  /** What berth's message must say there. */
  readonly says: RegExp;
  /** The reference 0.89.0 exit code: it only rejects a file whose top level is not an object. */
  readonly reference: 'fails' | 'accepts';
}

const MALFORMED: readonly Malformed[] = [
  // The reference parses with jsonc-parser and ignores its syntax errors, so these are read "successfully" by it;
  // berth refuses them, pointing at the error.
  { name: 'missing-comma', text: '{\n  "image": "debian"\n  "name": "x"\n}\n', at: [3, 3], says: /comma/, reference: 'accepts' },
  { name: 'unterminated-string', text: '{\n  "image": "debian\n}\n', at: [2, 12], says: /unterminated string/, reference: 'accepts' },
  { name: 'missing-brace', text: '{\n  "image": "debian",\n  "features": {\n}', at: [4, 2], says: /"}"/, reference: 'accepts' },
  { name: 'unterminated-comment', text: '{ "image": "x" /* no end', at: [1, 16], says: /unterminated comment/, reference: 'accepts' },
  { name: 'missing-comma-in-array', text: '{ "image": "x",\n  "forwardPorts": [3000 8080] }', at: [2, 25], says: /comma/, reference: 'accepts' },
  // Both tools fail on these.
  { name: 'empty-file', text: '', at: [1, 1], says: /empty/, reference: 'fails' },
  { name: 'top-level-array', text: '[{ "image": "x" }]', at: [1, 1], says: /object/, reference: 'fails' },
  { name: 'top-level-string', text: '"image"', at: [1, 1], says: /object/, reference: 'fails' },
];

test('malformed configurations: berth fails with one JSON error naming <file>:<line>:<column>', async () => {
  const work = await freshTemp('berth-parity-malformed-');
  const problems: string[] = [];
  await pool(MALFORMED, CONCURRENCY, async (c) => {
    const dir = path.join(work, c.name);
    const file = path.join(dir, '.devcontainer', 'devcontainer.json');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, c.text);
    const args = ['--workspace-folder', dir];
    const [ours, theirs] = await Promise.all([runBerth(args, dir), runReference(args, dir)]);
    if (c.reference === 'fails' && theirs.code === 0) problems.push(`${c.name}: the reference exited 0, expected a failure`);
    if (c.reference === 'accepts' && theirs.code !== 0) problems.push(`${c.name}: the reference exited ${theirs.code}; 0.89.0 accepts this file (update the case)`);
    if (ours.code === 0) {
      problems.push(`${c.name}: berth exited 0: ${ours.stdout.trim()}`);
      return;
    }
    let out: Record<string, unknown>;
    try {
      out = oneJsonObject('berth', ours.stdout);
    } catch (err) {
      problems.push(`${c.name}: ${(err as Error).message}`);
      return;
    }
    const message = String(out['message']);
    const where = `${file}:${c.at[0]}:${c.at[1]}: `;
    if (out['outcome'] !== 'error') problems.push(`${c.name}: outcome is ${JSON.stringify(out['outcome'])}, not "error"`);
    if (!message.startsWith(where)) problems.push(`${c.name}: the message should start with ${JSON.stringify(where)}: ${JSON.stringify(message)}`);
    if (!c.says.test(message)) problems.push(`${c.name}: the message should match ${String(c.says)}: ${JSON.stringify(message)}`);
  });
  assert.deepEqual(problems.sort(), [], problems.join('\n'));
});
