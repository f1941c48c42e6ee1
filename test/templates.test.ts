/** Every template in templates/ has valid metadata and yields a valid configuration. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { parseConfigText } from '../src/config/parse';
import { readConfiguration } from '../src/config/read';
import { applyTemplate, listTemplates } from '../src/config/templates';
import { repoRoot } from './support/repo';

const TEMPLATES = path.join(repoRoot(), 'templates');
const dirs: string[] = [];
after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

test('at least six templates, including the required starters', async () => {
  const ids = (await listTemplates(TEMPLATES)).map((t) => t.id);
  for (const id of ['debian', 'node', 'python', 'go', 'rust', 'compose-postgres']) assert.ok(ids.includes(id), `missing ${id}`);
});

test('every template applies with default options into a valid configuration', async () => {
  for (const meta of await listTemplates(TEMPLATES)) {
    assert.ok(meta.description && meta.options && Object.keys(meta.options).length > 0, `${meta.id}: description and options`);
    const ws = await mkdtemp(path.join(os.tmpdir(), `berth-template-${meta.id}-`));
    dirs.push(ws);
    const written = await applyTemplate(meta, ws, {});
    assert.ok(written.includes(path.join('.devcontainer', 'devcontainer.json')), meta.id);
    for (const rel of written) {
      const text = await readFile(path.join(ws, rel), 'utf8');
      assert.doesNotMatch(text, /\$\{templateOption:/, `${meta.id}/${rel} still has a template option`);
    }
    const file = path.join(ws, '.devcontainer', 'devcontainer.json');
    const parsed = parseConfigText(await readFile(file, 'utf8'), file);
    assert.deepEqual(parsed.diagnostics, [], `${meta.id}: no warnings`);
    const read = await readConfiguration({ workspaceFolder: ws, env: {}, mountGitRoot: false });
    assert.ok(read.workspace.workspaceFolder, meta.id);
  }
});

test('every option value of every enum yields a valid configuration', async () => {
  for (const meta of await listTemplates(TEMPLATES)) {
    for (const [name, option] of Object.entries(meta.options ?? {})) {
      const values = option.type === 'boolean' ? [true, false] : [...(option.enum ?? []), ...(option.proposals ?? [])];
      for (const value of values) {
        const ws = await mkdtemp(path.join(os.tmpdir(), `berth-template-${meta.id}-`));
        dirs.push(ws);
        await applyTemplate(meta, ws, { [name]: value });
        const file = path.join(ws, '.devcontainer', 'devcontainer.json');
        assert.deepEqual(parseConfigText(await readFile(file, 'utf8'), file).diagnostics, [], `${meta.id} ${name}=${String(value)}`);
      }
    }
  }
});
