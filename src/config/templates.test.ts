import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { BerthError } from '../common/errors';
import { applyTemplate, readTemplate, resolveTemplateOptions } from './templates';

const dirs: string[] = [];
after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-tpl-'));
  dirs.push(dir);
  return dir;
}

async function template(meta: object, files: Record<string, string | Buffer>, id = 'demo'): Promise<string> {
  const dir = path.join(await tempDir(), id);
  await mkdir(dir);
  await writeFile(path.join(dir, 'devcontainer-template.json'), JSON.stringify(meta));
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
  return dir;
}

const META = {
  id: 'demo',
  version: '1.0.0',
  name: 'Demo',
  options: {
    version: { type: 'string', enum: ['1', '2'], default: '1' },
    flavour: { type: 'string', proposals: ['a', 'b'], default: 'a' },
    git: { type: 'boolean', default: true },
  },
};

test('options: defaults, enum, proposals are only suggestions, booleans', async () => {
  const meta = await readTemplate(await template(META, {}));
  assert.deepEqual(resolveTemplateOptions(meta, {}), { version: '1', flavour: 'a', git: 'true' });
  assert.deepEqual(resolveTemplateOptions(meta, { version: '2', flavour: 'custom', git: false }), { version: '2', flavour: 'custom', git: 'false' });
  assert.deepEqual(resolveTemplateOptions(meta, { git: 'false' }).git, 'false');
  assert.throws(() => resolveTemplateOptions(meta, { version: '3' }), /must be one of 1, 2/);
  assert.throws(() => resolveTemplateOptions(meta, { git: 'yes' }), /true or false/);
  assert.throws(() => resolveTemplateOptions(meta, { colour: 'x' }), /no option "colour" \(options: version, flavour, git\)/);
});

test('bad metadata is refused with the file and the problem', async () => {
  await assert.rejects(readTemplate(await template({ id: 'demo', name: 'x' }, {})), /version: missing required property "version"/);
  await assert.rejects(readTemplate(await template({ ...META, id: 'other' }, {})), /must match the folder name/);
  await assert.rejects(
    readTemplate(await template({ ...META, options: { v: { type: 'string', enum: ['1'], default: '2' } } }, {})),
    /default "2" is not in enum/,
  );
  await assert.rejects(readTemplate(await template({ ...META, options: { v: { type: 'boolean', default: 'yes' } } }, {})), /default must be a boolean/);
  await assert.rejects(readTemplate(path.join(await tempDir(), 'nothing')), (e: unknown) => BerthError.is(e, 'not_found'));
});

test('apply substitutes options in every text file, copies binaries, and skips metadata files', async () => {
  const binary = Buffer.from([0, 1, 2, 0x24, 0x7b]);
  const meta = await readTemplate(
    await template(META, {
      '.devcontainer/devcontainer.json': '{ "image": "x:${templateOption:version}-${templateOption:flavour}" }',
      '.devcontainer/compose.yml': 'git: ${templateOption:git}\nkeep: ${localWorkspaceFolder}\n',
      'assets/logo.bin': binary,
      'README.md': 'not copied',
    }),
  );
  const ws = await tempDir();
  const written = await applyTemplate(meta, ws, { version: '2' });
  assert.deepEqual(written, ['.devcontainer/compose.yml', '.devcontainer/devcontainer.json', 'assets/logo.bin']);
  assert.equal(await readFile(path.join(ws, '.devcontainer/devcontainer.json'), 'utf8'), '{ "image": "x:2-a" }');
  assert.equal(await readFile(path.join(ws, '.devcontainer/compose.yml'), 'utf8'), 'git: true\nkeep: ${localWorkspaceFolder}\n');
  assert.deepEqual(await readFile(path.join(ws, 'assets/logo.bin')), binary);
});

test('apply never overwrites a user file unless asked, and writes nothing when it refuses', async () => {
  const meta = await readTemplate(await template(META, { '.devcontainer/devcontainer.json': '{}', '.devcontainer/extra.txt': 'new' }));
  const ws = await tempDir();
  await mkdir(path.join(ws, '.devcontainer'));
  await writeFile(path.join(ws, '.devcontainer/devcontainer.json'), 'mine');
  await assert.rejects(applyTemplate(meta, ws, {}), (e: unknown) => BerthError.is(e, 'already_exists') && /devcontainer\.json/.test(e.message));
  assert.equal(await readFile(path.join(ws, '.devcontainer/devcontainer.json'), 'utf8'), 'mine');
  await assert.rejects(readFile(path.join(ws, '.devcontainer/extra.txt')), 'nothing else was written');
  await applyTemplate(meta, ws, {}, { overwrite: true });
  assert.equal(await readFile(path.join(ws, '.devcontainer/devcontainer.json'), 'utf8'), '{}');
});
