import assert from 'node:assert/strict';
import { test } from 'node:test';
import { settingsPlan, vscodeCustomizations } from './customizations';

test('customizations: one object or merged entries; later settings win; "-id" removes an extension', () => {
  assert.deepEqual(vscodeCustomizations({ customizations: { vscode: { settings: { 'editor.tabSize': 2 }, extensions: ['a.b'] } } }), {
    settings: { 'editor.tabSize': 2 },
    extensions: ['a.b'],
  });
  const merged = vscodeCustomizations({
    customizations: [
      { vscode: { settings: { 'editor.tabSize': 4, x: 1 }, extensions: ['A.B', 'c.d'] } },
      { other: {} },
      { vscode: { settings: { 'editor.tabSize': 2 }, extensions: ['a.b', '-c.d'] } },
    ],
  });
  assert.deepEqual(merged, { settings: { 'editor.tabSize': 2, x: 1 }, extensions: ['a.b'] });
  assert.deepEqual(vscodeCustomizations({}), { settings: {}, extensions: [] });
  // read-configuration --include-merged-configuration: one list per tool.
  assert.deepEqual(
    vscodeCustomizations({ customizations: { vscode: [{ settings: { a: 1 }, extensions: ['x.y'] }, { settings: { a: 2 } }] } }),
    { settings: { a: 2 }, extensions: ['x.y'] },
  );
});

test('customizations: only changed settings are applied, with their old values kept to restore', () => {
  const now: Record<string, unknown> = { a: 1, b: [1] };
  assert.deepEqual(
    settingsPlan({ a: 1, b: [2], c: 'x' }, (k) => now[k]),
    { apply: { b: [2], c: 'x' }, previous: { b: [1], c: undefined } },
  );
});
