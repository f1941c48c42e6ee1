import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEnvFile } from './env-file';

test('parseEnvFile: comments, export, quotes, escapes, inline comments, multi-line values', () => {
  const text = [
    '# a comment',
    '',
    'A=1',
    'export B = two words ',
    "C='single $x \\n kept'",
    'D="double\\nline \\"q\\""',
    'E=value # comment',
    'F=a#b',
    'G=',
    'ONLY_NAME',
    'H="first',
    'second"',
  ].join('\n');
  assert.deepEqual(parseEnvFile(text), { A: '1', B: 'two words', C: 'single $x \\n kept', D: 'double\nline "q"', E: 'value', F: 'a#b', G: '', H: 'first\nsecond' });
});

test('parseEnvFile: a bad name says where', () => {
  assert.throws(() => parseEnvFile('OK=1\n9BAD=2', 'x.env'), /x\.env:2: invalid variable name "9BAD"/);
  assert.throws(() => parseEnvFile('Q="open', 'x.env'), /unterminated quote/);
});
