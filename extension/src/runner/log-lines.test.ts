import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter, parseLogLine } from './log-lines';

test('log lines: JSON records become text with their fields; progress has a short message', () => {
  assert.deepEqual(parseLogLine('{"time":"t","level":"info","msg":"running postCreateCommand","hook":"postCreate"}'), {
    text: 'running postCreateCommand (hook=postCreate)',
    progress: 'running postCreateCommand',
    level: 'info',
  });
  assert.deepEqual(parseLogLine('{"time":"t","level":"debug","msg":"x"}'), { text: 'debug: x', level: 'debug' });
  assert.deepEqual(parseLogLine('{"type":"progress","id":"abc","status":"Downloading","current":1,"total":2}'), {
    text: 'abc: Downloading',
    progress: 'abc: Downloading',
    level: 'info',
  });
  assert.deepEqual(parseLogLine('plain hook output'), { text: 'plain hook output', level: 'info' });
  assert.equal(parseLogLine('   '), undefined);
});

test('log lines: the splitter keeps an unfinished line until it ends', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('a\nb'), ['a']);
  assert.deepEqual(s.push('c\n\nd'), ['bc', '']);
  assert.deepEqual(s.end(), ['d']);
  assert.deepEqual(s.end(), []);
});
