import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { BerthError } from '../../common/errors';
import { composeFiles } from './compose';

test('composeFiles: -f in order, else COMPOSE_FILE, else the default file and its override', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-compose-files-'));
  try {
    assert.throws(() => composeFiles({}, { cwd: dir, env: {} }), (e: unknown) => BerthError.is(e, 'not_found'));
    await writeFile(path.join(dir, 'docker-compose.yml'), '');
    assert.deepEqual(composeFiles({}, { cwd: dir, env: {} }), [path.join(dir, 'docker-compose.yml')]);
    await writeFile(path.join(dir, 'compose.yaml'), '');
    await writeFile(path.join(dir, 'compose.override.yaml'), '');
    assert.deepEqual(composeFiles({}, { cwd: dir, env: {} }), [path.join(dir, 'compose.yaml'), path.join(dir, 'compose.override.yaml')]);
    assert.deepEqual(composeFiles({}, { cwd: dir, env: { COMPOSE_FILE: 'a.yml:/b.yml' } }), [path.join(dir, 'a.yml'), '/b.yml']);
    assert.deepEqual(composeFiles({ file: ['x.yml', 'y.yml'] }, { cwd: dir, env: { COMPOSE_FILE: 'a.yml' } }), [path.join(dir, 'x.yml'), path.join(dir, 'y.yml')]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
