import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../../common/errors';
import { DEFAULT_PATH, processArgs, processCwd, processEnv } from './spec-process';

const image = { Entrypoint: ['/entry.sh'], Cmd: ['serve', '--port', '80'] };

test('entrypoint and cmd with Docker’s merge rules', () => {
  assert.deepEqual(processArgs({}, image), ['/entry.sh', 'serve', '--port', '80']);
  assert.deepEqual(processArgs({ cmd: ['sh'] }, image), ['/entry.sh', 'sh']);
  assert.deepEqual(processArgs({ cmd: [] }, image), ['/entry.sh', 'serve', '--port', '80'], 'an empty cmd means the image cmd');
  assert.deepEqual(processArgs({ entrypoint: ['/bin/true'] }, image), ['/bin/true'], 'a new entrypoint drops the image cmd');
  assert.deepEqual(processArgs({ entrypoint: ['/bin/echo'], cmd: ['hi'] }, image), ['/bin/echo', 'hi']);
  assert.deepEqual(processArgs({ entrypoint: [] }, image), ['serve', '--port', '80'], 'an empty entrypoint keeps the image cmd');
  assert.deepEqual(processArgs({ entrypoint: [''], cmd: ['sh'] }, image), ['sh'], '--entrypoint "" resets it');
  assert.deepEqual(processArgs({ entrypoint: null, cmd: null }, image), ['/entry.sh', 'serve', '--port', '80']);
  assert.deepEqual(processArgs({}, { Cmd: ['sh'] }), ['sh']);
  assert.throws(() => processArgs({}, {}), (e: unknown) => BerthError.is(e, 'invalid_argument') && /no command/.test(e.message));
  assert.throws(() => processArgs({ entrypoint: [] }, { Entrypoint: ['/x'] }), (e: unknown) => BerthError.is(e, 'invalid_argument'));
});

test('env: defaults, request over image, bare KEY unsets, TERM only with a TTY', () => {
  const img = { Env: ['PATH=/opt/bin:/usr/bin', 'LANG=C.UTF-8', 'DROP=me', 'SAME=image'] };
  assert.deepEqual(processEnv({ env: ['SAME=request', 'DROP', 'EXTRA=a=b'] }, img, 'h1'), ['PATH=/opt/bin:/usr/bin', 'HOSTNAME=h1', 'SAME=request', 'EXTRA=a=b', 'LANG=C.UTF-8']);
  assert.deepEqual(processEnv({}, {}, 'h2'), [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=h2']);
  assert.deepEqual(processEnv({ tty: true }, {}, 'h3'), [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=h3', 'TERM=xterm']);
  assert.deepEqual(processEnv({ tty: true, env: ['TERM=vt100'] }, {}, 'h'), [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=h', 'TERM=vt100']);
  assert.deepEqual(processEnv({ env: ['HOSTNAME=mine'] }, {}, 'h'), [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=mine']);
  assert.ok(!processEnv({}, {}, 'h').some((kv) => kv.startsWith('HOME=')), 'HOME is left to the runtime (per user)');
});

test('working directory: request, image, "/"; absolute only', () => {
  assert.equal(processCwd({ workingDir: '/src' }, { WorkingDir: '/app' }), '/src');
  assert.equal(processCwd({}, { WorkingDir: '/app' }), '/app');
  assert.equal(processCwd({ workingDir: '' }, {}), '/');
  assert.throws(() => processCwd({ workingDir: 'rel' }, {}), (e: unknown) => BerthError.is(e, 'invalid_argument'));
});
