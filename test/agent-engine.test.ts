/**
 * The agent as berthd serves it: containers created with `agent: true` get
 * the bundle at /.berth; `berth ssh-config` writes keys and Host blocks
 * whose ProxyCommand (`berth ssh --stdio`) reaches the agent through the
 * engine's WebSocket endpoint, which runs it by an exec. The real OpenSSH
 * client (ssh, scp, -L) and `berth ssh` / `berth port-forward`, in the
 * busybox and the Debian image.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ClientChannel } from 'ssh2';
import { ApiClient } from '../src/api/client';
import { connectAgent } from '../src/api/agent-ssh';
import { runBerth, singleJson } from './support/cli';
import { berthCli } from './support/repo';
import { startRegistry, type Registry } from './support/registry';
import { ensureDebianImage, ensureTestImages, type TestImages } from './support/test-images';

let dir = '';
let socket = '';
let registry: Registry;
let images: TestImages;
let debian = '';
let client: ApiClient;
let sshConfig = '';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(file, args);
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A process that exits before reading its stdin must not fail the test with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

const ssh = (args: readonly string[], options: { timeoutMs?: number } = {}): Promise<Run> => run('ssh', ['-F', sshConfig, '-o', 'BatchMode=yes', ...args], options);

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function httpGet(port: number): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return await new Promise<string>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/', timeout: 5000 }, (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve(body));
          })
          .on('error', reject);
      });
    } catch (err) {
      if (i >= 50) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function startDev(name: string, image: string, extra: object = {}): Promise<string> {
  const { id } = await client.call('containerCreate', { body: { name, image, cmd: ['sleep', '100000'], networkMode: 'none', agent: true, ...extra } });
  await client.call('containerStart', { params: { id } });
  return id;
}

async function writeSshConfig(): Promise<void> {
  const r = await runBerth(['ssh-config', '--socket', socket, '--dir', path.join(dir, 'ssh')]);
  assert.equal(r.code, 0, r.stderr);
  sshConfig = path.join(dir, 'ssh_config');
  await writeFile(sshConfig, r.stdout);
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-agent-engine-'));
  socket = path.join(dir, 'run', 'berth.sock');
  registry = await startRegistry();
  images = await ensureTestImages(registry);
  debian = await ensureDebianImage(registry);
  const r = await runBerth(['engine', 'start', '--data-root', path.join(dir, 'data'), '--socket', socket]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  client = new ApiClient({ socketPath: socket });
  for (const image of [images.latest, debian]) assert.equal((await runBerth(['pull', image, '--socket', socket])).code, 0);
  await startDev('bb', images.latest, { user: '1000:1000' });
  await startDev('deb', debian);
  await writeSshConfig();
});

after(async () => {
  if (client) {
    for (const c of await client.call('containerList', { query: { all: 'true' } }).catch(() => [])) {
      await client.call('containerRemove', { params: { id: c.id }, query: { force: 'true' } }).catch(() => undefined);
    }
  }
  if (socket) await runBerth(['engine', 'stop', '--socket', socket]);
  await registry?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('ssh-config: one Host block per container with the agent, through berth ssh --stdio', async () => {
  const text = await readFile(sshConfig, 'utf8');
  assert.match(text, /^Host bb\.berth$/m);
  assert.match(text, /^Host deb\.berth$/m);
  assert.match(text, /ProxyCommand .*berth\.js ssh --stdio --socket /);
  assert.match(text, /StrictHostKeyChecking yes/);
});

test('ssh-config: OpenSSH and the agent agree on AES-GCM, not OpenSSH\'s first choice chacha20-poly1305', async () => {
  const r = await ssh(['-v', 'bb.berth', 'true']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /kex: client->server cipher: aes128-gcm@openssh\.com/);
  assert.match(r.stderr, /kex: server->client cipher: aes128-gcm@openssh\.com/);
});

for (const [host, user, home] of [
  ['bb', '1000', '/home/app'],
  ['deb', '0', '/root'],
] as const) {
  describe(`${host}: the real OpenSSH client through the generated config`, { timeout: 240_000 }, () => {
    test('a command runs as the container user; its exit code comes back', async () => {
      const r = await ssh([`${host}.berth`, 'id -u; echo "$HOME"; test -d /.berth && echo agent-mounted; exit 7']);
      assert.equal(r.code, 7, r.stderr);
      assert.equal(r.stdout, `${user}\n${home}\nagent-mounted\n`);
    });

    test('an interactive command gets a real terminal', async () => {
      const r = await ssh(['-tt', `${host}.berth`, 'tty; stty size']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\/dev\/pts\/\d+/);
    });

    test('scp of a 100 MB file both ways keeps its checksum', async () => {
      const local = path.join(dir, `${host}-big`);
      const handle = await open(local, 'w');
      for (let i = 0; i < 100; i++) await handle.write(randomBytes(1024 * 1024));
      await handle.close();
      const remote = host === 'bb' ? '/tmp/big' : '/root/big';
      const up = await run('scp', ['-F', sshConfig, '-o', 'BatchMode=yes', '-q', local, `${host}.berth:${remote}`], { timeoutMs: 180_000 });
      assert.equal(up.code, 0, up.stderr);
      const sum = await ssh([`${host}.berth`, `sha256sum ${remote}`]);
      assert.equal(sum.stdout.split(' ')[0], await sha256(local));
      const back = path.join(dir, `${host}-back`);
      const down = await run('scp', ['-F', sshConfig, '-o', 'BatchMode=yes', '-q', `${host}.berth:${remote}`, back], { timeoutMs: 180_000 });
      assert.equal(down.code, 0, down.stderr);
      assert.equal(await sha256(back), await sha256(local));
      await rm(back);
      await rm(local);
      await ssh([`${host}.berth`, `rm ${remote}`]);
    });

    test('ssh -L forwards to an HTTP server in the container', async () => {
      const port = host === 'bb' ? 8080 : 8081;
      // busybox's httpd serves; the Debian image gets a static busybox by scp first.
      let httpd = 'httpd';
      if (host === 'deb') {
        const busybox = (await run('sh', ['-c', 'command -v busybox'])).stdout.trim();
        const copied = await run('scp', ['-F', sshConfig, '-o', 'BatchMode=yes', '-q', busybox, `${host}.berth:/tmp/busybox`]);
        assert.equal(copied.code, 0, copied.stderr);
        httpd = '/tmp/busybox httpd';
      }
      const serve = `chmod +x /tmp/busybox 2>/dev/null; mkdir -p /tmp/www && echo hello-${host} > /tmp/www/index.html && ${httpd} -p 127.0.0.1:${port} -h /tmp/www`;
      const started = await ssh([`${host}.berth`, serve]);
      assert.equal(started.code, 0, started.stderr);
      const local = await freePort();
      const tunnel: ChildProcess = spawn('ssh', ['-F', sshConfig, '-o', 'BatchMode=yes', '-o', 'ExitOnForwardFailure=yes', '-N', '-L', `127.0.0.1:${local}:127.0.0.1:${port}`, `${host}.berth`], { stdio: 'ignore' });
      try {
        assert.equal((await httpGet(local)).trim(), `hello-${host}`);
      } finally {
        tunnel.kill();
      }
    });
  });
}

test('berth ssh runs a command and returns its exit code; berth port-forward carries TCP', async () => {
  const r = await runBerth(['ssh', '--socket', socket, 'bb', '--', 'sh', '-c', 'echo "$0 $1"; exit 4', 'a b', "c'd"]);
  assert.equal(r.code, 4, r.stderr);
  assert.equal(r.stdout, "a b c'd\n");
  const fwd = spawn(process.execPath, [berthCli(), 'port-forward', '--socket', socket, 'bb', '0:8080'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      fwd.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
      });
      fwd.once('exit', (code) => reject(new Error(`port-forward exited with ${String(code)}`)));
    });
    const result = singleJson(`${line}\n`) as { forwards: { local: number }[] };
    const port = result.forwards[0]?.local;
    assert.ok(port);
    // The server from the ssh -L test (or a new one) answers on 8080 in bb.
    await ssh(['bb.berth', 'mkdir -p /tmp/www; echo hello-bb > /tmp/www/index.html; httpd -p 127.0.0.1:8080 -h /tmp/www 2>/dev/null; true']);
    assert.equal((await httpGet(port)).trim(), 'hello-bb');
  } finally {
    fwd.kill('SIGINT');
  }
});

test('the agent refuses a client without the container key', async () => {
  const other = path.join(dir, 'other-key');
  const gen = await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
  assert.equal(gen.code, 0, gen.stderr);
  // The same Host block with another key in place of the container's.
  const config = path.join(dir, 'ssh_config_other');
  await writeFile(config, (await readFile(sshConfig, 'utf8')).replace(/^(\s*IdentityFile ).*$/gm, `$1${other}`));
  const r = await run('ssh', ['-F', config, '-o', 'BatchMode=yes', 'bb.berth', 'echo should-not-run']);
  assert.notEqual(r.code, 0);
  assert.doesNotMatch(r.stdout, /should-not-run/);
  assert.match(r.stderr, /Permission denied/);
});

test('a container made without the agent says so', async () => {
  const { id } = await client.call('containerCreate', { body: { name: 'plain', image: images.latest, cmd: ['sleep', '1000'], networkMode: 'none' } });
  await client.call('containerStart', { params: { id } });
  const r = await runBerth(['ssh', '--socket', socket, 'plain', '--', 'true']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /created without the Berth agent/);
});

test('Berth\'s client asks for SSH\'s "none" cipher on the engine\'s local socket only: encrypted when told to, or over a stream from elsewhere', async () => {
  const execOut = (c: Awaited<ReturnType<typeof connectAgent>>['client']): Promise<string> =>
    new Promise((resolve, reject) =>
      c.exec('echo $((6*7))', (err, stream) => {
        if (err) return reject(err);
        let out = '';
        stream.on('data', (d: Buffer) => (out += d.toString()));
        stream.on('close', () => resolve(out));
      }),
    );
  const cases = [
    { api: new ApiClient({ socketPath: socket }), options: {}, cipher: 'none' },
    { api: new ApiClient({ socketPath: socket }), options: { encrypt: true }, cipher: 'aes128-gcm@openssh.com' },
    // As a gateway's or an SSH channel's stream comes: here it happens to reach the same socket.
    { api: new ApiClient({ socketPath: socket, connect: () => Promise.resolve(net.connect(socket)) }), options: {}, cipher: 'aes128-gcm@openssh.com' },
  ];
  for (const c of cases) {
    const agent = await connectAgent(c.api, 'bb', c.options);
    try {
      assert.equal(agent.cipher, c.cipher, JSON.stringify(c.options));
      assert.equal(await execOut(agent.client), '42\n');
    } finally {
      agent.client.end();
    }
  }
});

for (const host of ['bb', 'deb'] as const) {
  test(`${host}: ports, watch and PTY resize through the WebSocket transport (ssh2)`, { timeout: 60_000 }, async () => {
    const { client } = await connectAgent(new ApiClient({ socketPath: socket }), host);
    try {
      const lines = async (name: string, first?: string): Promise<{ stream: ClientChannel; events: Record<string, unknown>[] }> => {
        const stream = await new Promise<ClientChannel>((resolve, reject) => client.subsys(name, (err, s) => (err ? reject(err) : resolve(s))));
        const events: Record<string, unknown>[] = [];
        let buffered = '';
        stream.on('data', (d: Buffer) => {
          buffered += d.toString();
          const parts = buffered.split('\n');
          buffered = parts.pop() ?? '';
          for (const l of parts) events.push(JSON.parse(l) as Record<string, unknown>);
        });
        if (first) stream.write(first);
        return { stream, events };
      };
      const until = async (pred: () => boolean): Promise<void> => {
        for (let i = 0; i < 100 && !pred(); i++) await new Promise((r) => setTimeout(r, 100));
      };
      const exec = (cmd: string): Promise<string> =>
        new Promise((resolve, reject) =>
          client.exec(cmd, (err, ch) => {
            if (err) return reject(err);
            let out = '';
            ch.on('data', (d: Buffer) => (out += d.toString()));
            ch.stderr.on('data', (d: Buffer) => (out += d.toString()));
            ch.on('close', () => resolve(out));
          }),
        );

      // ports: a listener made by the agent's own node (present in every image with the agent)
      const ports = await lines('berth-ports');
      await new Promise((r) => setTimeout(r, 400));
      const port = host === 'bb' ? 9301 : 9302;
      const node = `$(ls /.berth/lib/ld-linux*) --library-path /.berth/lib /.berth/bin/node`;
      void exec(`${node} -e "require('net').createServer().listen(${port},'127.0.0.1');setTimeout(()=>process.exit(0),3000)"`);
      await until(() => ports.events.some((e) => e['event'] === 'open' && e['port'] === port));
      assert.ok(ports.events.some((e) => e['event'] === 'open' && e['port'] === port), JSON.stringify(ports.events));
      await until(() => ports.events.some((e) => e['event'] === 'close' && e['port'] === port));
      assert.ok(ports.events.some((e) => e['event'] === 'close' && e['port'] === port), 'the port vanished');
      ports.stream.close();

      // watch: a change made in the container streams back
      await exec('mkdir -p /tmp/watched');
      const watch = await lines('berth-watch', `${JSON.stringify({ path: '/tmp/watched', recursive: true })}\n`);
      await until(() => watch.events.some((e) => e['type'] === 'ready'));
      await exec('echo hi > /tmp/watched/a.txt');
      await until(() => watch.events.some((e) => e['path'] === '/tmp/watched/a.txt'));
      assert.ok(watch.events.some((e) => e['path'] === '/tmp/watched/a.txt'), JSON.stringify(watch.events));
      watch.stream.close();

      // PTY with resize
      const shell = await new Promise<ClientChannel>((resolve, reject) => client.shell({ term: 'xterm', rows: 24, cols: 80 }, (err, s) => (err ? reject(err) : resolve(s))));
      let screen = '';
      shell.on('data', (d: Buffer) => (screen += d.toString()));
      shell.setWindow(33, 111, 0, 0);
      await new Promise((r) => setTimeout(r, 300));
      shell.write('stty size; exit\n');
      await new Promise((r) => shell.on('close', r));
      assert.match(screen, /33 111/);
    } finally {
      client.end();
    }
  });
}

test('an agent that goes away: the commands open over the WebSocket transport end, without an exit status, instead of waiting forever', { timeout: 60_000 }, async () => {
  const { client } = await connectAgent(new ApiClient({ socketPath: socket }), 'bb');
  try {
    const open = (cmd: string): Promise<ClientChannel> => new Promise((resolve, reject) => client.exec(cmd, (err, ch) => (err ? reject(err) : resolve(ch))));
    const ended = (ch: ClientChannel): Promise<unknown[]> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the channel is still open 15 s after its agent went away')), 15_000);
        ch.on('data', () => undefined);
        ch.stderr.on('data', () => undefined);
        ch.on('close', (...args: unknown[]) => {
          clearTimeout(timer);
          resolve(args);
        });
      });
    const waiting = await open('sleep 100');
    const waitingEnded = ended(waiting);
    const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    // The agent is the parent of the shell that runs a command (which waits for the agent's answer to go out first).
    const killer = ended(await open('sleep 0.5; kill -9 $PPID'));
    // ssh2 passes 'close' the exit status, if one came: none did.
    assert.equal((await waitingEnded)[0], undefined);
    assert.equal((await killer)[0], undefined);
    await clientClosed;
  } finally {
    client.end();
  }
});
