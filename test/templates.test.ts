/** Every template in templates/ has clean metadata and yields a configuration our parser accepts without a warning. */
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { parseConfigText } from '../src/config/parse';
import { applyTemplate, checkTemplateMetadata, listTemplates, templateFiles, templateOptionReferences, type TemplateMetadata, type TemplateOptionValues } from '../src/config/templates';
import { repoRoot } from './support/repo';

const TEMPLATES = path.join(repoRoot(), 'templates');
const REQUIRED = ['debian', 'node', 'python', 'go', 'rust', 'compose-postgres'];
const dirs: string[] = [];
after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function applied(meta: TemplateMetadata, options: TemplateOptionValues = {}): Promise<{ ws: string; written: string[] }> {
  const ws = await mkdtemp(path.join(os.tmpdir(), `berth-template-${meta.id}-`));
  dirs.push(ws);
  return { ws, written: await applyTemplate(meta, ws, options) };
}

/** Parses the applied devcontainer.json; parseConfigText throws on errors, so this also asserts there are none. */
async function parsedConfig(ws: string, label = ''): Promise<Readonly<Record<string, unknown>>> {
  const file = path.join(ws, '.devcontainer', 'devcontainer.json');
  const parsed = parseConfigText(await readFile(file, 'utf8'), file);
  assert.deepEqual(parsed.diagnostics, [], `no warnings ${label}`);
  return parsed.raw;
}

async function checkMetadata(meta: TemplateMetadata): Promise<void> {
  const raw: unknown = JSON.parse(await readFile(path.join(meta.dir, 'devcontainer-template.json'), 'utf8'));
  assert.deepEqual(checkTemplateMetadata(raw, meta.id), [], 'no errors or warnings');
  assert.equal(meta.publisher, 'Berth');
  assert.ok(meta.description && meta.platforms?.length && meta.keywords?.length, 'description, platforms, keywords');
  const options = Object.entries(meta.options ?? {});
  assert.ok(options.length > 0, 'at least one option');
  for (const [name, option] of options) {
    assert.ok(option.description, `${name}: description`);
    if (option.type === 'string') {
      const values = option.enum ?? option.proposals ?? [];
      assert.ok(values.includes(String(option.default)), `${name}: the default is among its enum or proposals`);
    }
  }
}

async function checkOptionsAreUsed(meta: TemplateMetadata): Promise<void> {
  const used = new Set<string>();
  for (const rel of await templateFiles(meta.dir)) {
    for (const name of templateOptionReferences(await readFile(path.join(meta.dir, rel), 'utf8'))) used.add(name);
  }
  assert.deepEqual([...used].sort(), Object.keys(meta.options ?? {}).sort(), 'every option is used, and only declared ones');
}

/** Files the configuration names (Dockerfile, compose file) were written too. */
async function checkReferencedFiles(ws: string, config: Readonly<Record<string, unknown>>): Promise<void> {
  const configDir = path.join(ws, '.devcontainer');
  const build = config['build'] as { dockerfile?: string } | undefined;
  const compose = config['dockerComposeFile'];
  const named = [build?.dockerfile, ...(Array.isArray(compose) ? (compose as unknown[]) : [compose])].filter((f): f is string => typeof f === 'string');
  for (const file of named) await access(path.join(configDir, file));
  if (typeof compose === 'string') {
    const text = await readFile(path.join(configDir, compose), 'utf8');
    for (const service of [config['service'], ...((config['runServices'] as unknown[] | undefined) ?? [])]) {
      assert.match(text, new RegExp(`^  ${String(service)}:$`, 'm'), `compose service ${String(service)}`);
    }
    for (const m of text.matchAll(/dockerfile: (\S+)/g)) await access(path.join(configDir, m[1] ?? ''));
  }
}

function checkEditorSetup(config: Readonly<Record<string, unknown>>): void {
  const vscode = (config['customizations'] as { vscode?: { extensions?: unknown[] } } | undefined)?.vscode;
  assert.ok(vscode?.extensions?.length, 'customizations.vscode.extensions');
  assert.equal(typeof config['remoteUser'], 'string', 'remoteUser');
  assert.ok(config['postCreateCommand'], 'postCreateCommand');
  assert.ok(config['image'] ?? config['build'] ?? config['dockerComposeFile'], 'image, build or compose');
}

test('the required templates are all there, and at least six', async () => {
  const ids = (await listTemplates(TEMPLATES)).map((t) => t.id);
  for (const id of REQUIRED) assert.ok(ids.includes(id), `missing ${id}`);
  assert.ok(ids.length >= 6);
});

test('every template: clean metadata, applies with defaults into a valid configuration', async (t) => {
  for (const meta of await listTemplates(TEMPLATES)) {
    await t.test(meta.id, async () => {
      await checkMetadata(meta);
      await checkOptionsAreUsed(meta);
      const { ws, written } = await applied(meta);
      assert.ok(written.includes(path.join('.devcontainer', 'devcontainer.json')));
      for (const rel of written) assert.doesNotMatch(await readFile(path.join(ws, rel), 'utf8'), /\$\{templateOption:/, `${rel} still has a template option`);
      const config = await parsedConfig(ws);
      checkEditorSetup(config);
      await checkReferencedFiles(ws, config);
    });
  }
});

test('every template: each enum value, proposal and boolean yields a valid configuration', async (t) => {
  for (const meta of await listTemplates(TEMPLATES)) {
    await t.test(meta.id, async () => {
      for (const [name, option] of Object.entries(meta.options ?? {})) {
        const values = option.type === 'boolean' ? [true, false] : [...(option.enum ?? []), ...(option.proposals ?? [])];
        for (const value of values) {
          const { ws } = await applied(meta, { [name]: value });
          await parsedConfig(ws, `with ${name}=${String(value)}`);
        }
      }
    });
  }
});

test('the defaults give the images we mean', async () => {
  const expected: Record<string, string> = {
    debian: 'debian:bookworm',
    go: 'golang:1.24-bookworm',
    java: 'maven:3.9-eclipse-temurin-21',
    node: 'node:22-bookworm',
    python: 'python:3.13-bookworm',
    rust: 'rust:1-bookworm',
  };
  for (const meta of await listTemplates(TEMPLATES)) {
    const { ws } = await applied(meta);
    const config = await parsedConfig(ws);
    if (meta.id === 'compose-postgres') {
      const compose = await readFile(path.join(ws, '.devcontainer', 'docker-compose.yml'), 'utf8');
      assert.match(compose, /^ {4}image: postgres:16$/m);
      assert.match(await readFile(path.join(ws, '.devcontainer', 'Dockerfile'), 'utf8'), /^FROM debian:bookworm$/m);
    } else {
      assert.equal(config['image'], expected[meta.id], meta.id);
    }
  }
});
