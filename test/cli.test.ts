import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runBerth, singleJson } from './support/cli';
import { repoRoot } from './support/repo';

const dirs: string[] = [];
after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function workspace(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-cli-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

test('berth --help lists the commands; every command has --help', async () => {
  const top = await runBerth(['--help']);
  assert.equal(top.code, 0);
  const names = [...top.stderr.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1] ?? '');
  assert.ok(names.includes('read-configuration') && names.includes('up') && names.length >= 10, top.stderr);
  for (const name of names) {
    const help = await runBerth([name, '--help']);
    assert.equal(help.code, 0, name);
    assert.match(help.stderr, new RegExp(`Usage: berth ${name}`), name);
    assert.match(help.stderr, /--log-format/, name);
    assert.equal(help.stdout, '', `${name} --help writes nothing to stdout`);
  }
});

test('read-configuration prints the configuration of the README example', async () => {
  const run = await runBerth(['read-configuration', '--workspace-folder', path.join(repoRoot(), 'examples', 'hello')], {
    env: { ...process.env, USER: 'tester' },
  });
  assert.equal(run.code, 0, run.stderr);
  const out = singleJson(run.stdout);
  const configuration = out['configuration'] as Record<string, unknown>;
  assert.equal(configuration['image'], 'debian:bookworm-slim');
  assert.equal(configuration['name'], 'Hello, hello');
  assert.deepEqual(configuration['containerEnv'], { GREETING: 'hello from tester' });
  assert.deepEqual((configuration['configFilePath'] as Record<string, unknown>)['scheme'], 'vscode-fileHost');
  assert.ok(out['workspace']);
});

test('malformed JSONC: exit 1, one error object with file:line:column, message on stderr', async () => {
  const dir = await workspace({ '.devcontainer/devcontainer.json': '{\n  "image": "debian"\n  "name": "x"\n}' });
  const run = await runBerth(['read-configuration', '--workspace-folder', dir]);
  assert.equal(run.code, 1);
  const out = singleJson(run.stdout);
  assert.equal(out['outcome'], 'error');
  assert.equal(out['code'], 'invalid_argument');
  assert.match(String(out['message']), new RegExp(`${dir}/\\.devcontainer/devcontainer\\.json:3:3: error: malformed JSON: expected a comma`));
  assert.match(run.stderr, /devcontainer\.json:3:3/);
});

test('wrong types: every error with its path', async () => {
  const dir = await workspace({ '.devcontainer.json': '{\n  "image": "a",\n  "forwardPorts": ["x"],\n  "init": 1\n}' });
  const run = await runBerth(['read-configuration', '--workspace-folder', dir]);
  assert.equal(run.code, 1);
  const message = String(singleJson(run.stdout)['message']);
  assert.match(message, /\.devcontainer\.json:3:20: error: forwardPorts\[0\]/);
  assert.match(message, /\.devcontainer\.json:4:11: error: init: expected true or false/);
});

test('unknown properties warn on stderr and still succeed', async () => {
  const dir = await workspace({ '.devcontainer.json': '{ "image": "a", "colour": "blue" }' });
  const run = await runBerth(['read-configuration', '--workspace-folder', dir]);
  assert.equal(run.code, 0);
  assert.match(run.stderr, /warning: colour: unknown property "colour"/);
  assert.equal((singleJson(run.stdout)['configuration'] as Record<string, unknown>)['colour'], 'blue');
});

test('several configurations: listed, and chosen with --config', async () => {
  const dir = await workspace({
    '.devcontainer/node/devcontainer.json': '{ "image": "node" }',
    '.devcontainer/python/devcontainer.json': '{ "image": "python" }',
  });
  const list = await runBerth(['list-configurations', '--workspace-folder', dir]);
  assert.equal(list.code, 0);
  assert.deepEqual(
    (singleJson(list.stdout)['configurations'] as { relativePath: string }[]).map((c) => c.relativePath),
    ['.devcontainer/node/devcontainer.json', '.devcontainer/python/devcontainer.json'],
  );
  const ambiguous = await runBerth(['read-configuration', '--workspace-folder', dir]);
  assert.equal(ambiguous.code, 1);
  assert.match(String(singleJson(ambiguous.stdout)['message']), /choose one with --config/);
  const chosen = await runBerth(['read-configuration', '--workspace-folder', dir, '--config', '.devcontainer/python/devcontainer.json'], { cwd: dir });
  assert.equal(chosen.code, 0, chosen.stderr);
  assert.equal((singleJson(chosen.stdout)['configuration'] as Record<string, unknown>)['image'], 'python');
});

test('bad flags and unknown commands are clear errors', async () => {
  const flag = await runBerth(['read-configuration', '--nope']);
  assert.equal(flag.code, 1);
  assert.match(String(singleJson(flag.stdout)['message']), /Unknown option '--nope'/);
  const fmt = await runBerth(['read-configuration', '--log-format', 'xml']);
  assert.match(String(singleJson(fmt.stdout)['message']), /--log-format must be one of text, json/);
  const cmd = await runBerth(['frobnicate']);
  assert.equal(cmd.code, 2);
  assert.equal(singleJson(cmd.stdout)['outcome'], 'error');
});

test('--log-format json writes JSON lines to stderr', async () => {
  const dir = await workspace({ '.devcontainer.json': '{ "image": "a", "colour": "blue" }' });
  const run = await runBerth(['read-configuration', '--workspace-folder', dir, '--log-format', 'json']);
  const lines = run.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(lines.some((l) => l['level'] === 'warn' && /unknown property/.test(String(l['msg']))), run.stderr);
});

test('templates: list, apply with options, refuse to overwrite', async () => {
  const list = await runBerth(['templates', 'list']);
  assert.equal(list.code, 0, list.stdout);
  const ids = (singleJson(list.stdout)['templates'] as { id: string }[]).map((t) => t.id);
  assert.ok(ids.includes('node') && ids.length >= 6);
  const dir = await workspace({});
  const apply = await runBerth(['templates', 'apply', '--template', 'node', '--option', 'nodeVersion=22', '--workspace-folder', dir]);
  assert.equal(apply.code, 0, apply.stdout);
  const read = await runBerth(['read-configuration', '--workspace-folder', dir]);
  assert.equal((singleJson(read.stdout)['configuration'] as Record<string, unknown>)['image'], 'node:22-bookworm');
  const again = await runBerth(['templates', 'apply', '--template', 'node', '--workspace-folder', dir]);
  assert.equal(again.code, 1);
  assert.match(String(singleJson(again.stdout)['message']), /already has .*nothing was written/);
  const bad = await runBerth(['templates', 'apply', '--template', 'node', '--option', 'nodeVersion=9', '--workspace-folder', await workspace({})]);
  assert.match(String(singleJson(bad.stdout)['message']), /must be one of 18, 20, 22/);
});
