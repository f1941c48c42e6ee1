/**
 * The agent with the real OpenSSH client (ssh, sftp, scp, -L) through a
 * generated ssh config whose ProxyCommand runs the agent on its stdio, and
 * with an ssh2 client for PTY resize and the ports/watch channels.
 */
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { Client } from 'ssh2';
import { startAgentFixture, type AgentFixture } from './support/agent-fixture';

const exec = promisify(execFile);
let agent: AgentFixture;

before(async () => {
  agent = await startAgentFixture();
});
after(async () => {
  await agent[Symbol.asyncDispose]();
});

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** An ssh2 client connected to a freshly spawned agent over its stdio. */
async function connectSsh2(privateKey: Buffer): Promise<Client & AsyncDisposable> {
  const [file = '', ...args] = agent.agentArgv;
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const sock = Duplex.from({ readable: child.stdout, writable: child.stdin });
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve).once('error', reject);
    client.connect({ sock, username: 'root', privateKey, hostVerifier: () => true });
  });
  return Object.assign(client, {
    [Symbol.asyncDispose]: () => {
      client.end();
      child.kill();
      return Promise.resolve();
    },
  });
}

function execSsh2(client: Client, command: string, options: { pty?: { cols: number; rows: number }; env?: Record<string, string> } = {}): Promise<{ out: string; code: number }> {
  return new Promise((resolve, reject) => {
    client.exec(command, { ...(options.pty ? { pty: { ...options.pty, term: 'xterm' } } : {}), ...(options.env ? { env: options.env } : {}) }, (err, stream) => {
      if (err) return reject(err);
      let out = '';
      let code = -1;
      stream.on('data', (d: Buffer) => (out += d.toString()));
      stream.stderr.on('data', (d: Buffer) => (out += d.toString()));
      stream.on('exit', (c: number) => (code = c));
      stream.on('close', () => resolve({ out, code }));
    });
  });
}

test('exec: stdout, stderr and the exit code come back separately', async () => {
  const r = await agent.ssh([agent.host, 'echo out; echo err >&2; exit 3']);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
});

test('exec with environment and working directory', async () => {
  const r = await agent.ssh(['-o', 'SetEnv=BERTH_CWD=/tmp GREETING=hi', agent.host, 'pwd; echo $GREETING']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '/tmp\nhi\n');
});

test('stdin reaches the command and EOF ends it', async () => {
  const r = await agent.ssh([agent.host, 'wc -c'], { input: 'x'.repeat(10000) });
  assert.equal(r.stdout.trim(), '10000');
});

test('a command with a TTY runs on a real PTY', async () => {
  const r = await agent.ssh(['-tt', agent.host, 'tty; test -t 0 && echo interactive']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^\/dev\/pts\/\d+\r?\n/);
  assert.match(r.stdout, /interactive/);
});

test('PTY size and resize (window-change) are honoured', async () => {
  await using client = await connectSsh2(await readFile(agent.clientKey));
  const first = await execSsh2(client, 'stty size', { pty: { cols: 100, rows: 40 } });
  assert.equal(first.out.trim(), '40 100');
  const resized = await new Promise<string>((resolve, reject) => {
    client.exec('sleep 0.5; stty size', { pty: { cols: 80, rows: 24, term: 'xterm' } }, (err, stream) => {
      if (err) return reject(err);
      let out = '';
      stream.on('data', (d: Buffer) => (out += d.toString()));
      stream.setWindow(50, 132, 0, 0);
      stream.on('close', () => resolve(out.trim()));
    });
  });
  assert.equal(resized, '50 132');
});

test('a window-change after the terminal is gone (its process still running) is dropped: the connection and the exit status live on', async () => {
  await using client = await connectSsh2(await readFile(agent.clientKey));
  // The command closes its terminal but runs on (ignoring the hangup): the agent's PTY master is closed, no exit status yet.
  const result = await new Promise<{ exit: unknown[]; out: string }>((resolve, reject) => {
    client.exec('trap "" HUP; echo gone; exec 0<&- 1>&- 2>&-; sleep 1; exit 3', { pty: { cols: 80, rows: 24, term: 'xterm' } }, (err, stream) => {
      if (err) return reject(err);
      let out = '';
      let exit: unknown[] = [];
      // A connection the agent dropped leaves this channel open on the client's side: give up after a while.
      const timer = setTimeout(() => reject(new Error(`the channel never closed; output so far: ${JSON.stringify(out)}`)), 15_000);
      stream.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('gone')) setTimeout(() => stream.setWindow(50, 132, 0, 0), 300);
      });
      stream.on('exit', (...args: unknown[]) => (exit = args));
      stream.on('close', () => {
        clearTimeout(timer);
        resolve({ exit, out });
      });
    });
  });
  assert.match(result.out, /gone/);
  assert.deepEqual(result.exit, [3]);
  // The same connection still runs commands.
  assert.deepEqual(await execSsh2(client, 'echo still here'), { out: 'still here\n', code: 0 });
});

test('authentication: an unknown key is refused, nothing runs', async () => {
  const marker = path.join(agent.dir, 'should-not-exist');
  const strangerConfig = path.join(agent.dir, 'ssh_config_stranger');
  await writeFile(strangerConfig, (await readFile(agent.config, 'utf8')).replace(/IdentityFile .*/, `IdentityFile ${path.join(agent.dir, 'stranger')}`));
  const r = await agent.ssh([agent.host, `touch ${marker}`], { config: strangerConfig });
  assert.equal(r.code, 255);
  assert.match(r.stderr, /Permission denied \(publickey\)/);
  await assert.rejects(stat(marker));
  const noKeyConfig = path.join(agent.dir, 'ssh_config_nokey');
  await writeFile(noKeyConfig, (await readFile(agent.config, 'utf8')).replace(/IdentityFile .*/, 'IdentityFile /nonexistent'));
  const noKey = await agent.ssh([agent.host, `touch ${marker}`], { config: noKeyConfig });
  assert.equal(noKey.code, 255);
  await assert.rejects(stat(marker));
});

test('sftp and scp: a 100 MB file round-trips intact; directory operations', async () => {
  const dir = path.join(agent.dir, 'files');
  await mkdir(dir);
  const big = path.join(dir, 'big.bin');
  await exec('sh', ['-c', `head -c 100000000 /dev/urandom > ${big}`]);
  const batch = [
    `put ${big} ${dir}/up.bin`,
    `get ${dir}/up.bin ${dir}/down.bin`,
    `mkdir ${dir}/sub`,
    `rename ${dir}/sub ${dir}/sub2`,
    `symlink ${dir}/up.bin ${dir}/link`,
    `chmod 600 ${dir}/up.bin`,
    `ls -l ${dir}`,
  ].join('\n');
  const started = Date.now();
  const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn('sftp', ['-q', '-F', agent.config, '-b', '-', agent.host]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(`${batch}\n`);
  });
  const seconds = (Date.now() - started) / 1000;
  assert.equal(r.code, 0, r.out);
  const digest = await sha256(big);
  assert.equal(await sha256(path.join(dir, 'up.bin')), digest);
  assert.equal(await sha256(path.join(dir, 'down.bin')), digest);
  assert.ok((await stat(path.join(dir, 'sub2'))).isDirectory());
  assert.equal((await stat(path.join(dir, 'up.bin'))).mode & 0o777, 0o600);
  assert.match(r.out, /^l.* link$/m);
  process.stderr.write(`sftp put+get of 200 MB total: ${seconds.toFixed(1)} s\n`);
  await exec('scp', ['-F', agent.config, big, `${agent.host}:${dir}/scp.bin`]);
  assert.equal(await sha256(path.join(dir, 'scp.bin')), digest);
  const failing = await new Promise<number | null>((resolve) => {
    const child = spawn('sftp', ['-q', '-F', agent.config, '-b', '-', agent.host], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('close', resolve);
    child.stdin.end(`rm ${dir}/does-not-exist\n`);
  });
  assert.equal(failing, 1, 'an error ends the batch promptly');
  await rm(dir, { recursive: true, force: true });
});

test('ssh -L forwards to a server on the agent side', async () => {
  const server = http.createServer((_req, res) => res.end('hello through the tunnel'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const target = (server.address() as net.AddressInfo).port;
  const local = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(port));
    });
  });
  const tunnel = spawn('ssh', ['-F', agent.config, '-N', '-o', 'ExitOnForwardFailure=yes', '-L', `${local}:127.0.0.1:${target}`, agent.host], { stdio: 'ignore' });
  try {
    let body = '';
    for (let i = 0; i < 50 && body === ''; i++) {
      body = await fetch(`http://127.0.0.1:${local}/`).then(
        (r) => r.text(),
        () => new Promise<string>((resolve) => setTimeout(() => resolve(''), 100)),
      );
    }
    assert.equal(body, 'hello through the tunnel');
  } finally {
    tunnel.kill();
    server.close();
  }
});

test('direct-tcpip to a port past 65535 is refused, and the connection lives on', async () => {
  await using client = await connectSsh2(await readFile(agent.clientKey));
  const opened = await new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve('no answer in 10 s'), 10_000);
    client.forwardOut('127.0.0.1', 0, '127.0.0.1', 70000, (err) => {
      clearTimeout(timer);
      resolve(err ? `refused: ${err.message}` : 'opened');
    });
  });
  assert.match(opened, /^refused: .*open failure/i);
  assert.deepEqual(await execSsh2(client, 'echo still here'), { out: 'still here\n', code: 0 });
});

test('ports channel: listening ports appear and vanish', async () => {
  await using client = await connectSsh2(await readFile(agent.clientKey));
  const events: { event: string; port: number }[] = [];
  const stream = await new Promise<import('ssh2').ClientChannel>((resolve, reject) => client.subsys('berth-ports', (err, s) => (err ? reject(err) : resolve(s))));
  let buffered = '';
  stream.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const l of lines) events.push(JSON.parse(l) as { event: string; port: number });
  });
  const until = async (pred: () => boolean): Promise<void> => {
    for (let i = 0; i < 60 && !pred(); i++) await new Promise((r) => setTimeout(r, 100));
  };
  await new Promise((r) => setTimeout(r, 400));
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await until(() => events.some((e) => e.event === 'open' && e.port === port));
  assert.ok(events.some((e) => e.event === 'open' && e.port === port), 'open seen');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await until(() => events.some((e) => e.event === 'close' && e.port === port));
  assert.ok(events.some((e) => e.event === 'close' && e.port === port), 'close seen');
  stream.close();
});

test('watch channel: file changes stream back', async () => {
  await using client = await connectSsh2(await readFile(agent.clientKey));
  const dir = path.join(agent.dir, 'watched');
  await mkdir(path.join(dir, 'node_modules'), { recursive: true });
  const stream = await new Promise<import('ssh2').ClientChannel>((resolve, reject) => client.subsys('berth-watch', (err, s) => (err ? reject(err) : resolve(s))));
  const seen: { type: string; path?: string }[] = [];
  let buffered = '';
  stream.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const l of lines) seen.push(JSON.parse(l) as { type: string; path?: string });
  });
  stream.write(`${JSON.stringify({ path: dir, recursive: true, exclude: ['node_modules'] })}\n`);
  for (let i = 0; i < 50 && !seen.some((e) => e.type === 'ready'); i++) await new Promise((r) => setTimeout(r, 50));
  await writeFile(path.join(dir, 'node_modules', 'ignored.js'), 'x');
  await writeFile(path.join(dir, 'a.txt'), 'hello');
  for (let i = 0; i < 50 && !seen.some((e) => e.path === path.join(dir, 'a.txt')); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(seen.some((e) => e.path === path.join(dir, 'a.txt')), JSON.stringify(seen));
  assert.ok(!seen.some((e) => e.path?.includes('node_modules')), 'excluded paths stay quiet');
  stream.close();
});
