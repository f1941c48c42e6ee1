import assert from 'node:assert/strict';
import { test } from 'node:test';
import { berthCli } from '../../../test/support/repo';
import { cliArgv, parseResult, runCli } from './berth-cli';

test('berth CLI argv: the socket goes to commands that talk to the engine, JSON logs always', () => {
  assert.deepEqual(cliArgv({ executable: 'berth', socket: '/s.sock' }, ['up', '--workspace-folder', '/w']), ['up', '--socket', '/s.sock', '--log-format', 'json', '--workspace-folder', '/w']);
  assert.deepEqual(cliArgv({ executable: 'berth', socket: '/s.sock' }, ['templates', 'list']), ['templates', '--log-format', 'json', 'list']);
  assert.deepEqual(cliArgv({ executable: 'berth' }, ['down']), ['down', '--log-format', 'json']);
});

test('berth CLI result: one JSON line; an error result keeps its code; no result is an error', () => {
  assert.deepEqual(parseResult('{"outcome":"success","containerId":"abc"}\n', 0, ''), { outcome: 'success', containerId: 'abc' });
  assert.throws(() => parseResult('{"outcome":"error","code":"not_found","message":"no dev container"}\n', 1, ''), (err: Error & { code?: string }) => err.code === 'not_found' && /no dev container/.test(err.message));
  assert.throws(() => parseResult('', 1, 'boom'), /exited with code 1: boom/);
});

test('berth CLI: runs the real CLI, streams its JSON log, returns its result; a missing executable says which setting to fix', async () => {
  const lines: string[] = [];
  const out = await runCli({ executable: berthCli() }, ['templates', 'list'], { onLog: (l) => lines.push(l.text) });
  assert.ok(Array.isArray(out['templates']) && (out['templates'] as { id: string }[]).some((t) => t.id === 'debian'), JSON.stringify(out));
  const failed = await runCli({ executable: berthCli() }, ['templates', 'apply', '--template', 'no-such-template', '--workspace-folder', '/nonexistent']).catch((e: Error) => e);
  assert.ok(failed instanceof Error && /no template "no-such-template"/.test(failed.message), failed instanceof Error ? failed.message : JSON.stringify(failed));
  await assert.rejects(runCli({ executable: '/nonexistent/berth' }, ['list']), /set berth\.executable/);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(runCli({ executable: berthCli() }, ['list'], { signal: ac.signal }), (err: Error & { code?: string }) => err.code === 'cancelled');
});
