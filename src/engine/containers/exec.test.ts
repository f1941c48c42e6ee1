/** exec with and without a TTY, resize, and attach with stdin, with real runc and berth-shim (root). */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { OutputChunk } from '../shim/attach-client';
import type { ContainerManager } from './manager';
import { cleanupDirs, createDirs, createManager, type FixtureDirs } from './testing';

/** Reads output until `re` matches the text so far (bounded by the test timeout). */
async function readUntil(output: AsyncIterable<OutputChunk>, re: RegExp): Promise<string> {
  let text = '';
  for await (const c of output) {
    text += c.data.toString('utf8');
    if (re.test(text)) return text;
  }
  return text;
}

describe('exec and attach (runc)', { timeout: 60_000 }, () => {
  let dirs: FixtureDirs;
  let manager: ContainerManager;
  let id = '';

  before(async () => {
    dirs = await createDirs();
    ({ manager } = await createManager(dirs));
    await manager.reconcile();
    id = (await manager.create({ image: 'busybox', cmd: ['sleep', '1000'] })).id;
    await manager.start(id);
  });

  after(async () => {
    for (const c of await manager.list({ all: true })) await manager.remove(c.id, { force: true }).catch(() => undefined);
    manager.dispose();
    await cleanupDirs(dirs);
  });

  test('exec without a TTY: stdout, stderr, exit code, env, cwd, user', async () => {
    const r = await manager.execCollect(id, { cmd: ['sh', '-c', 'echo "hi $FOO"; pwd; id -u; echo oops >&2; exit 5'], env: ['FOO=bar'], workingDir: '/tmp', user: 'nobody' });
    assert.deepEqual(r, { exitCode: 5, stdout: 'hi bar\n/tmp\n65534\n', stderr: 'oops\n' });
  });

  test('exec output made before the attach is not lost', async () => {
    const r = await manager.execCollect(id, { cmd: ['sh', '-c', 'seq 1 20000'] });
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout.split('\n').length, 20001);
  });

  test('exec of a missing binary fails with the reason', async () => {
    await assert.rejects(manager.exec(id, { cmd: ['/no/such'] }), /\/no\/such/);
  });

  test('exec with stdin: cat echoes, half-close ends it', async () => {
    const s = await manager.exec(id, { cmd: ['cat'], attachStdin: true });
    s.write(Buffer.from('hello\n'));
    s.closeStdin();
    const out = await readUntil(s.output(), /$^/);
    assert.equal(out, 'hello\n');
    assert.equal(await s.exit, 0);
  });

  test('exec with a TTY: a real pty, resize changes stty size', async () => {
    const s = await manager.exec(id, { cmd: ['sh', '-c', 'tty; stty size; read x; stty size'], tty: true, attachStdin: true }, { size: { rows: 24, cols: 80 } });
    const first = await readUntil(s.output(), /\d+ \d+\r?\n/);
    assert.match(first, /^\/dev\/pts\/\d+\r\n24 80\r\n/);
    s.resize(40, 123);
    s.write(Buffer.from('go\n'));
    const rest = await readUntil(s.output(), /40 123/);
    assert.match(rest, /40 123/);
    for await (const _ of s.output()) {
      /* drain */
    }
    assert.equal(await s.exit, 0);
  });

  test('exec kill: a signal ends the process with 128+n', async () => {
    const s = await manager.exec(id, { cmd: ['sleep', '1000'] });
    s.kill(9);
    assert.equal(await s.exit, 137);
  });

  test('attach to a container with open stdin: cat echoes, close ends it', async () => {
    const c = await manager.create({ image: 'busybox', cmd: ['cat'], openStdin: true });
    await manager.start(c.id);
    const a = await manager.attach(c.id);
    a.write(Buffer.from('ping\n'));
    assert.equal(await readUntil(a.output(), /ping\n/), 'ping\n');
    a.closeStdin();
    assert.equal((await a.exit)?.exitCode, 0);
    assert.deepEqual(await manager.wait(c.id), { exitCode: 0 });
    const logged: string[] = [];
    for await (const l of manager.logs(c.id)) logged.push(l.line);
    assert.deepEqual(logged, ['ping']);
  });

  test('a TTY container: resize through the manager, output in the log', async () => {
    // The shell reads first: the terminal echoes typed input at once, so output made before the read could land on either side of the echo.
    const c = await manager.create({ image: 'busybox', cmd: ['sh', '-c', 'read x; tty; stty size'], tty: true, openStdin: true });
    await manager.start(c.id);
    await manager.resize(c.id, 33, 99);
    const a = await manager.attach(c.id);
    a.write(Buffer.from('go\n'));
    const seen = await readUntil(a.output(), /33 99/);
    assert.deepEqual(await manager.wait(c.id), { exitCode: 0 }, seen);
    await a.close();
    const logged: string[] = [];
    for await (const l of manager.logs(c.id)) logged.push(l.line);
    assert.match(logged.join('\n'), /^go\r\n?\/dev\/pts\/\d+\r\n?33 99\r?$/m, `live output: ${JSON.stringify(seen)}`);
  });
});
