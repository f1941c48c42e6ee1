/**
 * Lifecycle hooks of string commands in a row run in one exec (hook-batch),
 * end to end on a real berthd: in order, each in its own shell (one parent
 * for all, where separate execs would each have their own), every
 * command's output in the log under its hook and no driver line, a failing
 * one reported with its own output and exit code only, the hooks before it
 * recorded so that the next up does not run them again; an array command
 * splits the run.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { singleJson } from './support/cli';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';

let fx: EngineFixture;

async function workspace(name: string, config: object): Promise<string> {
  const ws = path.join(fx.dir, name);
  await mkdir(path.join(ws, '.devcontainer'), { recursive: true });
  await writeFile(path.join(ws, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: fx.images.latest, remoteUser: 'app', ...config }, null, 2));
  return ws;
}

async function cat(ws: string, file: string): Promise<string> {
  const r = await fx.berth(['exec', '--workspace-folder', ws, '--', 'cat', file]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

before(async () => {
  fx = await startEngineFixture('berth-hook-batch-');
});

after(async () => {
  await fx?.dispose();
});

test('string hooks in a row: one exec, in order, each in its own shell, output under its hook', async () => {
  const ws = await workspace('batch', {
    containerEnv: { FROM_CONTAINER: 'c' },
    remoteEnv: { FROM_REMOTE: 'r' },
    onCreateCommand: 'echo "onCreate $PPID $(id -un) $(pwd) $FROM_CONTAINER$FROM_REMOTE" >> /tmp/hooks; printf "no newline"',
    updateContentCommand: 'echo "updateContent $PPID" >> /tmp/hooks; exit 0',
    postCreateCommand: 'echo "postCreate $PPID" >> /tmp/hooks; echo; echo; echo after-blank-lines',
    postAttachCommand: 'echo "postAttach $PPID" >> /tmp/hooks; echo attach-out; echo attach-err >&2',
  });
  const r = await fx.berth(['up', '--workspace-folder', ws]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(singleJson(r.stdout)['hooks'], { onCreateCommand: 'ran', updateContentCommand: 'ran', postCreateCommand: 'ran', postStartCommand: 'skipped', postAttachCommand: 'ran' });
  const lines = (await cat(ws, '/tmp/hooks')).trim().split('\n');
  assert.deepEqual(
    lines.map((l) => l.split(' ')[0]),
    ['onCreate', 'updateContent', 'postCreate', 'postAttach'],
  );
  // `exit 0` in one command ends its own shell only; all four had the same parent: one exec.
  const parents = new Set(lines.map((l) => l.split(' ')[1]));
  assert.equal(parents.size, 1, lines.join('\n'));
  assert.match(lines[0] ?? '', /^onCreate \d+ app \/workspaces\/batch cr$/);
  // The log: each command announced, then its output; the driver's tag lines never show.
  const log = r.stderr;
  assert.doesNotMatch(log, /BERTH_HOOK_/);
  const order = ['running onCreateCommand', 'no newline', 'running updateContentCommand', 'running postCreateCommand', 'after-blank-lines', 'running postAttachCommand', 'attach-out'].map((s) => log.indexOf(s));
  assert.ok(order.every((at, i) => at >= 0 && (i === 0 || at > (order[i - 1] as number))), log);
  assert.match(log, /attach-err/);
  // The blank lines a command printed are kept (the driver's own is not).
  assert.match(log, /running postCreateCommand[^\n]*\n\n\nafter-blank-lines/);
  // Again: the create-time hooks are recorded, postAttach runs alone.
  const again = await fx.berth(['up', '--workspace-folder', ws]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(singleJson(again.stdout)['hooks'], { onCreateCommand: 'skipped', updateContentCommand: 'skipped', postCreateCommand: 'skipped', postStartCommand: 'skipped', postAttachCommand: 'ran' });
  assert.equal((await cat(ws, '/tmp/hooks')).trim().split('\n').length, 5);
  await fx.berth(['down', '--workspace-folder', ws]);
});

test('a failing command in a batch: its own output and exit code, the rest skipped, the hooks before it recorded', async () => {
  const ws = await workspace('batch-fail', {
    onCreateCommand: 'echo onCreate >> /tmp/hooks; echo onCreate-output',
    // Fails on the first up only; prints what looks like a driver line (another tag) first.
    postCreateCommand: 'if [ ! -e /tmp/failed-once ]; then touch /tmp/failed-once; echo BERTH_HOOK_0123456789abcdef01234567 0; echo boom >&2; exit 4; fi; echo postCreate >> /tmp/hooks',
    postAttachCommand: 'echo postAttach >> /tmp/hooks',
  });
  const r = await fx.berth(['up', '--workspace-folder', ws]);
  assert.equal(r.code, 1);
  const message = String(singleJson(r.stdout)['message']);
  assert.match(message, /^postCreateCommand failed with exit code 4: /);
  assert.match(message, /boom/);
  assert.match(message, /BERTH_HOOK_0123456789abcdef01234567 0/, 'a look-alike line is the command output');
  assert.doesNotMatch(message, /onCreate-output/);
  assert.equal(await cat(ws, '/tmp/hooks'), 'onCreate\n');
  // The next up: onCreate was recorded, postCreate runs again (and passes), then postAttach.
  const again = await fx.berth(['up', '--workspace-folder', ws]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(singleJson(again.stdout)['hooks'], { onCreateCommand: 'skipped', updateContentCommand: 'skipped', postCreateCommand: 'ran', postStartCommand: 'skipped', postAttachCommand: 'ran' });
  assert.equal(await cat(ws, '/tmp/hooks'), 'onCreate\npostCreate\npostAttach\n');
  await fx.berth(['down', '--workspace-folder', ws]);
});

test('an array command splits the run: the hooks before and after it are separate execs', async () => {
  const ws = await workspace('batch-split', {
    onCreateCommand: 'echo "onCreate $PPID" >> /tmp/hooks',
    updateContentCommand: 'echo "updateContent $PPID" >> /tmp/hooks',
    postCreateCommand: ['sh', '-c', 'echo "postCreate $PPID" >> /tmp/hooks'],
    postStartCommand: 'echo "postStart $PPID" >> /tmp/hooks',
    postAttachCommand: 'echo "postAttach $PPID" >> /tmp/hooks',
  });
  const r = await fx.berth(['up', '--workspace-folder', ws]);
  assert.equal(r.code, 0, r.stderr);
  const parent = Object.fromEntries((await cat(ws, '/tmp/hooks')).trim().split('\n').map((l) => l.split(' ') as [string, string]));
  assert.equal(parent['onCreate'], parent['updateContent']);
  assert.equal(parent['postStart'], parent['postAttach']);
  assert.notEqual(parent['onCreate'], parent['postStart']);
  assert.notEqual(parent['postCreate'], parent['onCreate']);
  await fx.berth(['down', '--workspace-folder', ws]);
});
