import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { BerthError, type ErrorCode } from '../common/errors';
import { applyTemplate, checkTemplateMetadata, listTemplates, readTemplate, resolveTemplateOptions, templateOptionReferences } from './templates';

const dirs: string[] = [];
after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-tpl-'));
  dirs.push(dir);
  return dir;
}

async function writeFiles(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), content);
  }
}

/** A template folder named `id` (in a fresh parent) with `meta` as its metadata. */
async function template(meta: object, files: Record<string, string | Buffer> = {}, id = 'demo'): Promise<string> {
  const dir = path.join(await tempDir(), id);
  await mkdir(dir);
  await writeFile(path.join(dir, 'devcontainer-template.json'), JSON.stringify(meta));
  await writeFiles(dir, files);
  return dir;
}

async function listAll(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.map((e) => path.relative(root, path.join(e.parentPath, e.name))).sort();
}

function isError(code: ErrorCode, message?: RegExp): (e: unknown) => boolean {
  return (e) => BerthError.is(e, code) && (message === undefined || message.test(e.message));
}

const META = {
  id: 'demo',
  version: '1.0.0',
  name: 'Demo',
  publisher: 'Berth',
  options: {
    version: { type: 'string', enum: ['1', '2'], default: '1' },
    flavour: { type: 'string', proposals: ['a', 'b'], default: 'a' },
    git: { type: 'boolean', default: true },
  },
};

test('options: defaults filled in, enum enforced, proposals only suggested, booleans coerced', async () => {
  const meta = await readTemplate(await template(META));
  assert.deepEqual(resolveTemplateOptions(meta, {}), { version: '1', flavour: 'a', git: 'true' });
  assert.deepEqual(resolveTemplateOptions(meta, { version: '2', flavour: 'custom', git: false }), { version: '2', flavour: 'custom', git: 'false' });
  assert.equal(resolveTemplateOptions(meta, { git: 'false' })['git'], 'false');
  assert.equal(resolveTemplateOptions(meta, { git: 'true' })['git'], 'true');
});

test('options: unknown names, values outside enum, bad booleans and unsafe values are refused', async () => {
  const meta = await readTemplate(await template(META));
  assert.throws(() => resolveTemplateOptions(meta, { version: '3' }), isError('invalid_argument', /version must be one of 1, 2 \(got "3"\)/));
  assert.throws(() => resolveTemplateOptions(meta, { git: 'yes' }), isError('invalid_argument', /git must be true or false/));
  assert.throws(() => resolveTemplateOptions(meta, { colour: 'x' }), isError('invalid_argument', /no option "colour" \(options: version, flavour, git\)/));
  assert.throws(() => resolveTemplateOptions(meta, { toString: 'x' }), /no option "toString"/);
  for (const bad of ['a"b', 'a\\b', 'a\nb']) {
    assert.throws(() => resolveTemplateOptions(meta, { flavour: bad }), isError('invalid_argument', /must not contain quotes/));
  }
  const bare = await readTemplate(await template({ id: 'bare', version: '0.1.0', name: 'Bare' }, {}, 'bare'));
  assert.deepEqual(resolveTemplateOptions(bare, {}), {});
  assert.throws(() => resolveTemplateOptions(bare, { x: '1' }), /it has no options/);
});

test('metadata: every kind of mistake is refused with the file and the JSON path', async () => {
  const refused = async (meta: object, message: RegExp): Promise<void> =>
    assert.rejects(readTemplate(await template(meta)), (e: unknown) => isError('invalid_argument', message)(e) && /devcontainer-template\.json/.test(String((e as BerthError).details.file)));
  await refused({ id: 'demo', name: 'x' }, /version: missing required property "version"/);
  await refused({ ...META, id: 'other' }, /id: id "other" must match the folder name "demo"/);
  await refused({ ...META, version: 'one' }, /version: expected a semantic version/);
  await refused({ ...META, options: { v: { type: 'string', enum: ['1'], default: '2' } } }, /options\.v\.default: default "2" is not in enum/);
  await refused({ ...META, options: { v: { type: 'boolean', default: 'yes' } } }, /default must be a boolean/);
  await refused({ ...META, options: { v: { type: 'number', default: 1 } } }, /options\.v\.type/);
  await refused({ ...META, options: { 'a-b': { type: 'string', default: '' } } }, /option name "a-b" must be letters, digits and "_"/);
  await refused({ ...META, options: { v: { type: 'string', default: 'a"b' } } }, /must not contain quotes/);
  const malformed = await template({});
  await writeFile(path.join(malformed, 'devcontainer-template.json'), '{ "id": ');
  await assert.rejects(readTemplate(malformed), isError('invalid_argument', /cannot read template metadata/));
  await assert.rejects(readTemplate(path.join(await tempDir(), 'nothing')), isError('not_found'));
});

test('metadata: unknown properties are warnings, not errors', () => {
  const issues = checkTemplateMetadata({ ...META, colour: 'blue' }, 'demo');
  assert.deepEqual(
    issues.map((i) => [i.severity, i.path.join('.'), i.message]),
    [['warning', 'colour', 'unknown property "colour"']],
  );
  assert.deepEqual(checkTemplateMetadata(META, 'demo'), []);
});

test('listTemplates: sorted by id, hidden folders and files skipped, a bad template fails the listing', async () => {
  const root = await tempDir();
  for (const id of ['zeta', 'alpha']) await writeFiles(root, { [`${id}/devcontainer-template.json`]: JSON.stringify({ ...META, id }) });
  await writeFiles(root, { '.git/config': '', 'README.md': '# templates' });
  assert.deepEqual((await listTemplates(root)).map((t) => [t.id, t.dir]), [['alpha', path.join(root, 'alpha')], ['zeta', path.join(root, 'zeta')]]);
  await assert.rejects(listTemplates(root, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  await writeFiles(root, { 'broken/devcontainer-template.json': JSON.stringify({ ...META, id: 'broken', name: '' }) });
  await assert.rejects(listTemplates(root), isError('invalid_argument', /broken.*name: expected a non-empty string/));
  await assert.rejects(listTemplates(path.join(root, 'missing')), isError('not_found'));
});

test('templateOptionReferences: names in order, once each, spaces allowed', () => {
  assert.deepEqual(templateOptionReferences('${templateOption:a} ${templateOption: b } ${templateOption:a} ${localEnv:X}'), ['a', 'b']);
});

test('apply: substitutes options in every text file, copies binaries as they are, skips metadata files', async () => {
  const binary = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('${templateOption:version}')]);
  const dir = await template(META, {
    '.devcontainer/devcontainer.json': '// v${templateOption:version}\n{ "image": "x:${templateOption:version}-${templateOption: flavour }" }',
    '.devcontainer/compose.yml': 'git: ${templateOption:git}\nkeep: ${localWorkspaceFolder}\n',
    '.devcontainer/Dockerfile': 'FROM debian:${templateOption:flavour}\n',
    'scripts/setup.sh': '#!/bin/sh\necho ${templateOption:version}\n',
    'docs/README.md': 'version ${templateOption:version}',
    'assets/logo.bin': binary,
    'bom.txt': '\ufeff${templateOption:version}',
    'README.md': 'not copied',
    'NOTES.md': 'not copied',
  });
  await chmod(path.join(dir, 'scripts/setup.sh'), 0o755);
  const ws = await tempDir();
  const written = await applyTemplate(dir, ws, { version: '2', flavour: 'bookworm' });
  assert.deepEqual(written, [
    '.devcontainer/Dockerfile',
    '.devcontainer/compose.yml',
    '.devcontainer/devcontainer.json',
    'assets/logo.bin',
    'bom.txt',
    'docs/README.md',
    'scripts/setup.sh',
  ]);
  const read = (rel: string): Promise<string> => readFile(path.join(ws, rel), 'utf8');
  assert.equal(await read('.devcontainer/devcontainer.json'), '// v2\n{ "image": "x:2-bookworm" }');
  assert.equal(await read('.devcontainer/compose.yml'), 'git: true\nkeep: ${localWorkspaceFolder}\n');
  assert.equal(await read('.devcontainer/Dockerfile'), 'FROM debian:bookworm\n');
  assert.equal(await read('scripts/setup.sh'), '#!/bin/sh\necho 2\n');
  assert.equal(await read('docs/README.md'), 'version 2');
  assert.equal(await read('bom.txt'), '\ufeff2');
  assert.deepEqual(await readFile(path.join(ws, 'assets/logo.bin')), binary);
  assert.equal((await stat(path.join(ws, 'scripts/setup.sh'))).mode & 0o777, 0o755);
  assert.deepEqual((await listAll(ws)).filter((f) => f.endsWith('.md')), ['docs/README.md']);
});

test('apply: never overwrites a user file unless asked, and writes nothing when it refuses', async () => {
  const meta = await readTemplate(await template(META, { '.devcontainer/devcontainer.json': '{}', 'extra/new.txt': 'new' }));
  const ws = await tempDir();
  await writeFiles(ws, { '.devcontainer/devcontainer.json': 'mine' });
  await assert.rejects(applyTemplate(meta, ws, {}), isError('already_exists', /already has \.devcontainer\/devcontainer\.json; nothing was written/));
  assert.equal(await readFile(path.join(ws, '.devcontainer/devcontainer.json'), 'utf8'), 'mine');
  assert.deepEqual(await listAll(ws), ['.devcontainer', '.devcontainer/devcontainer.json']);
  assert.deepEqual(await applyTemplate(meta, ws, {}, { overwrite: true }), ['.devcontainer/devcontainer.json', 'extra/new.txt']);
  assert.equal(await readFile(path.join(ws, '.devcontainer/devcontainer.json'), 'utf8'), '{}');
});

test('apply with overwrite replaces a link, not the file it points to', async () => {
  const meta = await readTemplate(await template(META, { '.devcontainer/devcontainer.json': '{}' }));
  const ws = await tempDir();
  const elsewhere = path.join(await tempDir(), 'shared.json');
  await writeFile(elsewhere, 'shared');
  await mkdir(path.join(ws, '.devcontainer'));
  await symlink(elsewhere, path.join(ws, '.devcontainer/devcontainer.json'));
  await assert.rejects(applyTemplate(meta, ws, {}), isError('already_exists'));
  await applyTemplate(meta, ws, {}, { overwrite: true });
  assert.equal(await readFile(elsewhere, 'utf8'), 'shared');
  assert.equal(await readFile(path.join(ws, '.devcontainer/devcontainer.json'), 'utf8'), '{}');
});

test('apply: a template referring to an undeclared option writes nothing', async () => {
  const dir = await template(META, { 'a.txt': '${templateOption:version}', 'b.txt': '${templateOption:colour}' });
  const ws = await tempDir();
  await assert.rejects(applyTemplate(dir, ws, {}), isError('invalid_argument', /b\.txt refers to undeclared option\(s\) colour/));
  assert.deepEqual(await listAll(ws), []);
});

test('apply: a file where a folder goes, or a folder where a file goes, is refused even with overwrite', async () => {
  const meta = await readTemplate(await template(META, { 'a/x.txt': 'x', 'b/y.txt': 'y', 'c.txt': 'c' }));
  const ws = await tempDir();
  await writeFiles(ws, { b: 'a file where the template wants a folder', 'c.txt/keep': 'a folder where the template wants a file' });
  for (const overwrite of [false, true]) {
    await assert.rejects(
      applyTemplate(meta, ws, {}, { overwrite }),
      isError('failed_precondition', /\/b is in the way of a folder; .*\/c\.txt is a folder; nothing was written/),
    );
  }
  assert.deepEqual(await listAll(ws), ['b', 'c.txt', 'c.txt/keep']);
  assert.equal(await readFile(path.join(ws, 'b'), 'utf8'), 'a file where the template wants a folder');
});

test('apply: a failure midway takes back what it created and nothing else', async () => {
  const meta = await readTemplate(await template(META, { 'a/deep/x.txt': 'x', 'b/y.txt': 'y' }));
  const ws = await tempDir();
  await writeFiles(ws, { 'b/mine.txt': 'mine' });
  // A signal that turns aborted once the first file is on disk: a failure between two writes.
  const firstWritten = (): boolean => existsSync(path.join(ws, 'a/deep/x.txt'));
  const signal = {
    get aborted(): boolean {
      return firstWritten();
    },
    throwIfAborted(): void {
      if (firstWritten()) throw new DOMException('stopped midway', 'AbortError');
    },
  } as unknown as AbortSignal;
  await assert.rejects(applyTemplate(meta, ws, {}, { signal }), { name: 'AbortError', message: 'stopped midway' });
  assert.deepEqual(await listAll(ws), ['b', 'b/mine.txt']);
});

test('apply: bad options, a missing workspace and cancellation are refused before writing', async () => {
  const dir = await template(META, { 'a.txt': '${templateOption:version}' });
  const ws = await tempDir();
  await assert.rejects(applyTemplate(dir, ws, { version: '9' }), isError('invalid_argument'));
  await assert.rejects(applyTemplate(dir, path.join(ws, 'missing'), {}), isError('not_found'));
  await writeFile(path.join(ws, 'file'), '');
  await assert.rejects(applyTemplate(dir, path.join(ws, 'file'), {}), isError('invalid_argument', /is not a folder/));
  const meta = await readTemplate(dir);
  await assert.rejects(applyTemplate(meta, ws, {}, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  assert.deepEqual(await listAll(ws), ['file']);
});
