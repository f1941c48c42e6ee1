import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asBerthDefinition, commandLine, quoteArg, taskCwd, taskEnv, tasksFromJson } from './task-definitions';

const vars = { workspaceFolder: '/workspaces/my app' };

test('task definitions: shell tasks keep their line, process tasks are quoted words run with exec', () => {
  assert.equal(commandLine({ type: 'berth', command: 'echo hi > out.txt' }, vars), 'echo hi > out.txt');
  assert.equal(commandLine({ type: 'berth', command: 'make', args: ['build', 'a b', "it's"] }, vars), `make build 'a b' 'it'\\''s'`);
  assert.equal(commandLine({ type: 'berth', command: 'ls', args: ['${workspaceFolder}'], process: true }, vars), `exec ls '/workspaces/my app'`);
  assert.equal(quoteArg({ value: 'a $b', quoting: 'weak' }), '"a \\$b"');
  assert.equal(quoteArg({ value: 'a b', quoting: 'escape' }), 'a\\ b');
  assert.equal(quoteArg(''), "''");
});

test('task definitions: cwd defaults to the workspace folder, relative ones are under it, variables replaced', () => {
  assert.equal(taskCwd({ type: 'berth', command: 'x' }, vars), '/workspaces/my app');
  assert.equal(taskCwd({ type: 'berth', command: 'x', cwd: 'sub' }, vars), '/workspaces/my app/sub');
  assert.equal(taskCwd({ type: 'berth', command: 'x', cwd: '${workspaceFolder}/b' }, vars), '/workspaces/my app/b');
  assert.deepEqual(taskEnv({ type: 'berth', command: 'x', env: { A: '${workspaceFolderBasename}' } }, vars), { A: 'my app' });
});

test('task definitions: only berth definitions with a command are runnable', () => {
  assert.equal(asBerthDefinition({ type: 'shell', command: 'x' }), undefined);
  assert.equal(asBerthDefinition({ type: 'berth' }), undefined);
  assert.deepEqual(asBerthDefinition({ type: 'berth', command: 'x', args: ['a', 3, { value: 'b' }], env: { N: 1 }, extra: true }), {
    type: 'berth',
    command: 'x',
    args: ['a', { value: 'b' }],
    env: { N: '1' },
  });
});

test('task definitions: tasks.json shell/process tasks become berth tasks with the same label (JSONC, linux section, global options)', () => {
  const text = `{
    // comments and trailing commas, as VS Code writes them
    "version": "2.0.0",
    "options": { "env": { "G": "global" } },
    "tasks": [
      { "label": "write marker", "type": "shell", "command": "echo done > marker.txt", "group": { "kind": "build", "isDefault": true }, "problemMatcher": [] },
      { "label": "list", "type": "process", "command": "ls", "args": ["-l"], "options": { "cwd": "src", "env": { "L": "1" } }, "linux": { "args": ["-la"] }, "problemMatcher": "$tsc" },
      { "label": "npm", "type": "npm", "script": "build" },
      { "label": "all", "dependsOn": ["list"] },
    ],
  }`;
  const tasks = tasksFromJson(text);
  assert.deepEqual(
    tasks.map((t) => t.label),
    ['write marker', 'list'],
  );
  assert.deepEqual(tasks[0], {
    label: 'write marker',
    definition: { type: 'berth', command: 'echo done > marker.txt', env: { G: 'global' } },
    group: 'build',
    problemMatchers: [],
  });
  assert.deepEqual(tasks[1]?.definition, { type: 'berth', command: 'ls', args: ['-la'], process: true, cwd: 'src', env: { G: 'global', L: '1' } });
  assert.deepEqual(tasks[1]?.problemMatchers, ['$tsc']);
  assert.deepEqual(tasksFromJson('{}'), []);
  assert.throws(() => tasksFromJson('not json'), /tasks\.json/);
});
