import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDockerfile } from './dockerfile';
import { shellExpand, shellWords } from './shell-words';

const vars = new Map([
  ['A', '1'],
  ['EMPTY', ''],
  ['SP', 'two words'],
]);

test('words: quotes removed, variables expanded, single quotes literal, escapes kept', () => {
  assert.deepEqual(shellWords('a "b c" \'$A\' $A ${A}x "$SP" \\$A', vars), ['a', 'b c', '$A', '1', '1x', 'two words', '$A']);
  assert.deepEqual(shellWords('K=${MISSING:-dflt} L=${A:+set} M=${EMPTY:-e} N=${EMPTY-e} O=${UNSET+x}', vars), ['K=dflt', 'L=set', 'M=e', 'N=', 'O=']);
  assert.equal(shellExpand('/app/$A/${SP}', vars), '/app/1/two words');
  assert.throws(() => shellWords('"open', vars), /no closing quote/);
  assert.throws(() => shellWords('${MISSING:?must be set}', vars), /MISSING: must be set/);
  // The escape directive's character.
  assert.deepEqual(shellWords('C:\\dir `$A', vars, '`'), ['C:\\dir', '$A']);
});

test('Dockerfile: stages, global ARGs, flags, exec form, continuation lines, errors with lines', () => {
  const df = parseDockerfile('# syntax=docker/dockerfile:1\nARG BASE=busybox\nFROM $BASE AS Build\nRUN echo a && \\\n  echo b\nCOPY --from=build --chown=1:2 a b /c/\nCMD ["sh", "-c", "echo \\"q r\\""]\nFROM scratch\n');
  assert.equal(df.globalArgs.length, 1);
  assert.deepEqual(
    df.stages.map((s) => [s.index, s.name, s.from.line]),
    [
      [0, 'build', 3],
      [1, undefined, 8],
    ],
  );
  const [run, copy, cmd] = df.stages[0]?.instructions ?? [];
  assert.equal(run?.args, 'echo a &&   echo b');
  assert.equal(run?.line, 4);
  assert.deepEqual([...(copy?.flags ?? [])], [
    ['from', 'build'],
    ['chown', '1:2'],
  ]);
  assert.equal(copy?.text, 'COPY --from=build --chown=1:2 a b /c/');
  assert.deepEqual(cmd?.json, ['sh', '-c', 'echo "q r"']);
  assert.throws(() => parseDockerfile('RUN true\n'), /Dockerfile:1: RUN before the first FROM/);
  assert.throws(() => parseDockerfile('FROM a AS x\nFROM b AS x\n'), /Dockerfile:2: duplicate stage name "x"/);
  assert.throws(() => parseDockerfile('# nothing\n'), /has no FROM/);
});
