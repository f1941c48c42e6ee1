#!/usr/bin/env node
// Benchmark the in-container agent (run here on the host over its stdio, two pipes, as the
// engine's exec runs it inside containers):
//  - exec round trip through a warm agent connection vs `docker exec` on Debian's dockerd
//  - direct-tcpip tunnel throughput vs direct loopback, and the CPU per byte of each process
//  - cold start (spawn -> authenticated) and RSS of the agent process after the session
//    (exec and tunnel): its peak, right after, and once idle (when the agent has given
//    memory back), beside a bare node with the same flags
// With --engine, the same through berthd as the product runs it: a busybox container
// made with the agent, the agent started by an engine exec behind the WebSocket endpoint,
// and Berth's own client (connectAgent), which asks for SSH's "none" cipher on the engine's
// local socket (src/common/ssh-clear.ts). Without --engine the client takes ssh2's defaults
// (AES-GCM), as OpenSSH or a client through a gateway would.
// The machine is shared: tunnel and direct loopback take turns (--rounds of 128 MiB each),
// and the ratio compares their medians, so that both see the same load. Before them, --warmup
// rounds of each, not counted (printed apart): V8 optimizes the tunnel's code only after some
// thousands of 128 KiB packets, and the first rounds ran at half speed.
// Usage: node bench/agent.mjs [--runs 50] [--rounds 4] [--warmup 2] [--no-docker] [--engine]
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { Client } = createRequire(import.meta.url)(path.join(root, 'node_modules', 'ssh2'));
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] || 50) || 50;
const rounds = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) || 4 : 4;
const warmup = args.includes('--warmup') ? Number(args[args.indexOf('--warmup') + 1]) || 0 : 2;
const withDocker = !args.includes('--no-docker');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
/** Long enough for the agent's idle release (a quiet second, checked once a second). */
const IDLE_WAIT_MS = 3000;
/** Clock ticks per second of /proc/PID/stat's CPU times. */
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-agent-'));
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host')]);
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'client')]);
// The node flags the engine starts the agent with.
const { AGENT_NODE_FLAGS } = createRequire(import.meta.url)(path.join(root, 'out/src/engine/agent/bundle.js'));
const agentArgv = [...AGENT_NODE_FLAGS, path.join(root, 'dist', 'berth-agent.js'), '--host-key', path.join(dir, 'host'), '--authorized-keys', path.join(dir, 'client.pub')];

const viaEngine = args.includes('--engine');
/** Under --engine, the measuring process: the engine and the container the harness made (see below). */
const engineTarget = process.env.BERTH_BENCH_ENGINE ? JSON.parse(process.env.BERTH_BENCH_ENGINE) : undefined;
let engine;
if (viaEngine && !engineTarget) {
  // The harness (registry, test images, engine, container) runs here; the measuring runs in a child process,
  // whose heap holds only the client, as `berth port-forward`'s does. Loaded into the measuring process,
  // the harness's modules kept its heap over V8's 8 MB threshold for incremental marking, and it marked
  // its heap some 50 times in six rounds (once in berth port-forward itself, or in the stdio bench).
  const require = createRequire(import.meta.url);
  const { startRegistry } = require(path.join(root, 'out/test/support/registry.js'));
  const { ensureTestImages } = require(path.join(root, 'out/test/support/test-images.js'));
  const { ApiClient } = require(path.join(root, 'out/src/api/client.js'));
  const registry = await startRegistry();
  const images = await ensureTestImages(registry);
  const socket = path.join(dir, 'run', 'berth.sock');
  const berth = (...a) => execFileSync(process.execPath, [path.join(root, 'dist/berth.js'), ...a, '--socket', socket], { encoding: 'utf8' });
  berth('engine', 'start', '--data-root', path.join(dir, 'data'));
  let code = 1;
  try {
    berth('pull', images.latest);
    const api = new ApiClient({ socketPath: socket });
    const { id } = await api.call('containerCreate', { body: { image: images.latest, cmd: ['sleep', '100000'], networkMode: 'none', agent: true } });
    await api.call('containerStart', { params: { id } });
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], { stdio: 'inherit', env: { ...process.env, BERTH_BENCH_ENGINE: JSON.stringify({ socket, id }) } });
    code = await new Promise((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
    await api.call('containerRemove', { params: { id }, query: { force: 'true' } });
  } finally {
    berth('engine', 'stop');
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(code);
}
if (engineTarget) {
  const require = createRequire(import.meta.url);
  const { ApiClient } = require(path.join(root, 'out/src/api/client.js'));
  const { connectAgent } = require(path.join(root, 'out/src/api/agent-ssh.js'));
  engine = { api: new ApiClient({ socketPath: engineTarget.socket }), id: engineTarget.id, connectAgent };
}

/** The host pid of the newest agent process in our container (its parent is the exec's shim, which names the container). */
function newestAgentPid() {
  const pids = execFileSync('pgrep', ['-f', 'berth-agent.js'], { encoding: 'utf8' }).trim().split('\n').map(Number);
  const ours = pids.filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
      return readFileSync(`/proc/${ppid}/cmdline`, 'utf8').split('\0').includes(engine.id);
    } catch {
      return false;
    }
  });
  return Math.max(...ours);
}

async function connect(options = {}) {
  const t0 = process.hrtime.bigint();
  if (engine) {
    const { client, cipher } = await engine.connectAgent(engine.api, engine.id, options);
    return { client, cipher, child: { pid: newestAgentPid(), kill: () => {} }, coldMs: ms(t0) };
  }
  // Its stdio is two pipes, as the engine's shim gives an exec (not node's socketpairs); the agent makes them 1 MiB.
  const { openPipe } = createRequire(import.meta.url)(path.join(root, 'out/test/support/pipes.js'));
  const stdin = openPipe();
  const stdout = openPipe();
  const child = spawn(process.execPath, agentArgv, { stdio: [stdin.read, stdout.write, 'inherit'] });
  closeSync(stdin.read);
  closeSync(stdout.write);
  const fromAgent = new net.Socket({ fd: stdout.read, readable: true, writable: false });
  const toAgent = new net.Socket({ fd: stdin.write, readable: false, writable: true });
  const sock = Duplex.from({ readable: fromAgent, writable: toAgent });
  const client = new Client();
  let cipher = '';
  client.once('handshake', (negotiated) => (cipher = negotiated.cs.cipher));
  await new Promise((resolve, reject) => {
    client.once('ready', resolve).once('error', reject);
    client.connect({ sock, username: 'root', privateKey: readFileSync(path.join(dir, 'client')), hostVerifier: () => true });
  });
  const kill = () => {
    child.kill();
    fromAgent.destroy();
    toAgent.destroy();
  };
  return { client, cipher, child: { pid: child.pid, kill }, coldMs: ms(t0) };
}

const execOnce = (client, cmd) =>
  new Promise((resolve, reject) =>
    client.exec(cmd, (err, stream) => {
      if (err) return reject(err);
      stream.on('data', () => {});
      stream.stderr.on('data', () => {});
      stream.on('close', resolve);
    }),
  );

/**
 * Resident memory in MB: all of it, its peak, anonymous, and file pages (mostly node's own binary);
 * beside it the pages no other process shares (what one more agent costs) and the
 * proportional share (PSS), from smaps_rollup.
 */
function rss(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const mb = (text, field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)[1]) / 1024;
  return {
    total: mb(status, 'VmRSS'),
    peak: mb(status, 'VmHWM'),
    anon: mb(status, 'RssAnon'),
    file: mb(status, 'RssFile'),
    unique: mb(rollup, 'Private_Clean') + mb(rollup, 'Private_Dirty'),
    pss: mb(rollup, 'Pss'),
  };
}

/** A bare node with the agent's flags, measured like the agent. */
async function bareNodeRss() {
  const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, '-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  const r = rss(child.pid);
  child.kill();
  return r;
}

async function throughput(connectFn, bytes) {
  const sink = net.createServer((s) => s.resume());
  await new Promise((r) => sink.listen(0, '127.0.0.1', r));
  const port = sink.address().port;
  const sock = await connectFn(port);
  const chunk = Buffer.alloc(1 << 20);
  const t0 = process.hrtime.bigint();
  let sent = 0;
  // Until the far end has it all: it closes once it read our end, and only then does our side close
  // (a tunnel's 'finish' comes while a window's worth of data is still on its way).
  const closed = new Promise((resolve) => sock.once('close', resolve));
  sock.resume();
  await new Promise((resolve) => {
    const pump = () => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!sock.write(chunk)) return sock.once('drain', pump);
      }
      sock.end(resolve);
    };
    pump();
  });
  await closed;
  const secs = ms(t0) / 1000;
  sink.close();
  return bytes / secs / 1e6;
}

const colds = [];
for (let i = 0; i < 5; i++) {
  const c = await connect();
  colds.push(c.coldMs);
  c.client.end();
  c.child.kill();
}
const { client, cipher, child } = await connect();
await execOnce(client, 'true');
const agentExec = [];
for (let i = 0; i < runs; i++) {
  const t0 = process.hrtime.bigint();
  await execOnce(client, 'true');
  agentExec.push(ms(t0));
}
const roundBytes = 128 * 1024 * 1024;
// Under --engine the sink runs in the container (its own network namespace), from the agent's own node.
const sinkPort = 9399;
if (engine) {
  void execOnce(client, `$(ls /.berth/lib/ld-linux*) --library-path /.berth/lib /.berth/bin/node -e "require('net').createServer((s)=>s.resume()).listen(${sinkPort},'127.0.0.1');setTimeout(()=>process.exit(0),300000)"`);
  await new Promise((r) => setTimeout(r, 1000));
}
const directs = [];
// CPU per byte of each round, in ns: ours (the writer, the SSH client, and the sink when it runs here) and the agent's.
// Steadier than throughput on a shared machine: it does not count the time spent waiting for a core.
// Under --engine, the same tunnel again, encrypted (AES-GCM, as ssh2's defaults), with an agent of its own:
// what "none" saves, measured in the same turns.
const encrypted = engine ? await connect({ encrypt: true }) : undefined;
const tunnelPath = (c, pid, name) => ({ name: `tunnel (${name})`, client: c, pid, rounds: [], warm: [], cpu: { client: [], agent: [], sink: [] } });
const tunnelPaths = [tunnelPath(client, child.pid, cipher), ...(encrypted ? [tunnelPath(encrypted.client, encrypted.child.pid, encrypted.cipher)] : [])];
const cpuDirect = [];
// Under --engine, the sink is a process of its own in the container.
const sinkPid = engine ? Number(execFileSync('pgrep', ['-n', '-f', `listen\\(${sinkPort}`], { encoding: 'utf8' }).trim()) : 0;
const processCpuMs = (pid) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
};
const ownCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const warmDirect = [];
for (let i = 0; i < warmup + rounds; i++) {
  const counted = i >= warmup;
  const own = ownCpuMs();
  const d = await throughput((port) => new Promise((r) => { const s = net.connect(port, '127.0.0.1', () => r(s)); }), roundBytes);
  (counted ? directs : warmDirect).push(d);
  if (counted) cpuDirect.push(((ownCpuMs() - own) * 1e6) / roundBytes);
  for (const t of tunnelPaths) {
    const before = { own: ownCpuMs(), agent: processCpuMs(t.pid), sink: sinkPid ? processCpuMs(sinkPid) : 0 };
    const mbps = await throughput(
      (port) => new Promise((resolve, reject) => t.client.forwardOut('127.0.0.1', 0, '127.0.0.1', engine ? sinkPort : port, (err, ch) => (err ? reject(err) : resolve(ch)))),
      roundBytes,
    );
    if (!counted) {
      t.warm.push(mbps);
      continue;
    }
    t.rounds.push(mbps);
    t.cpu.client.push(((ownCpuMs() - before.own) * 1e6) / roundBytes);
    t.cpu.agent.push(((processCpuMs(t.pid) - before.agent) * 1e6) / roundBytes);
    if (sinkPid) t.cpu.sink.push(((processCpuMs(sinkPid) - before.sink) * 1e6) / roundBytes);
  }
}
encrypted?.client.end();
const direct = median(directs);
// After the session (exec round trips and the tunnel rounds): its peak, right away, and once the
// agent has been idle long enough to give memory back (server/src/memory-release.ts: a quiet second).
const busyRss = rss(child.pid);
await new Promise((r) => setTimeout(r, IDLE_WAIT_MS));
const agentRss = rss(child.pid);
// What the release costs the next request: the first exec faults back the pages it needs.
const t0 = process.hrtime.bigint();
await execOnce(client, 'true');
const execAfterIdle = ms(t0);
const bare = await bareNodeRss();
client.end();
child.kill();

console.log(engine ? 'through berthd (WebSocket endpoint, agent started by exec in a busybox container):' : 'agent on its stdio on the host:');
// Berth's clients ask for "none" on the engine's local socket (src/common/ssh-clear.ts); this stdio client asks for ssh2's defaults, as OpenSSH or a remote client would get.
console.log(`SSH cipher: ${cipher}${engine ? " (Berth's client on the engine's local socket; the encrypted tunnel below takes ssh2's defaults)" : " (ssh2's defaults, as over a gateway or from OpenSSH)"}`);
console.log(`agent cold start (${engine ? 'credentials + WebSocket + exec + SSH handshake' : 'spawn -> authenticated'}), median of 5: ${median(colds).toFixed(1)} ms`);
console.log(`agent RSS once idle after the session (exec + tunnel, then ${IDLE_WAIT_MS / 1000} s): ${agentRss.total.toFixed(1)} MB = ${agentRss.anon.toFixed(1)} anonymous + ${agentRss.file.toFixed(1)} file (target < 40 MB); a bare node with the same flags: ${bare.total.toFixed(1)} MB = ${bare.anon.toFixed(1)} + ${bare.file.toFixed(1)}`);
console.log(`  of it unique to the agent (what one more agent adds): ${agentRss.unique.toFixed(1)} MB; proportional share (PSS): ${agentRss.pss.toFixed(1)} MB; bare node: unique ${bare.unique.toFixed(1)}, PSS ${bare.pss.toFixed(1)}`);
console.log(`  busy: peak ${busyRss.peak.toFixed(1)} MB; right after the tunnel ${busyRss.total.toFixed(1)} MB = ${busyRss.anon.toFixed(1)} + ${busyRss.file.toFixed(1)}, unique ${busyRss.unique.toFixed(1)}`);
console.log(`exec round trip through a warm agent, p50 of ${runs}: ${median(agentExec).toFixed(2)} ms (target < 10 ms); the first after the idle release: ${execAfterIdle.toFixed(2)} ms`);
console.log(`direct loopback, median of ${rounds} rounds: ${direct.toFixed(0)} MB/s, ${median(cpuDirect).toFixed(2)} ns CPU per byte (writer and sink); rounds ${directs.map((x) => x.toFixed(0)).join(' ')}${warmup ? `; warm-up (not counted) ${warmDirect.map((x) => x.toFixed(0)).join(' ')}` : ''}`);
for (const t of tunnelPaths) {
  const tunnel = median(t.rounds);
  const sinkNs = engine ? median(t.cpu.sink) : 0;
  console.log(`${t.name}, median of ${rounds} rounds: ${tunnel.toFixed(0)} MB/s = ${(tunnel / direct).toFixed(2)} of direct (target >= 0.5); rounds ${t.rounds.map((x) => x.toFixed(0)).join(' ')}${warmup ? `; warm-up (not counted) ${t.warm.map((x) => x.toFixed(0)).join(' ')}` : ''}`);
  console.log(`  CPU per byte, median: ${(median(t.cpu.client) + median(t.cpu.agent) + sinkNs).toFixed(2)} ns = ${median(t.cpu.client).toFixed(2)} here (writer, SSH client${engine ? '' : ', sink'}) + ${median(t.cpu.agent).toFixed(2)} agent${engine ? ` + ${sinkNs.toFixed(2)} sink in the container` : ''}`);
}

if (withDocker) {
  // ../shared beside the checkout (/work/main), or beside the worktrees' folder (/work/wt/NAME).
  const anchor = [path.join(root, '..', 'shared'), path.join(root, '..', '..', 'shared')].map((d) => path.join(d, 'anchors', 'dockerd.sh')).find((f) => existsSync(f));
  const host = execFileSync('bash', [anchor ?? 'dockerd.sh', 'start'], { encoding: 'utf8' }).trim();
  const env = { ...process.env, DOCKER_HOST: host };
  const docker = (...a) => execFileSync('docker', a, { env, encoding: 'utf8' }).trim();
  const rootfs = path.join(dir, 'rootfs');
  execFileSync('sh', ['-c', `mkdir -p ${rootfs}/bin && cp "$(command -v busybox)" ${rootfs}/bin/busybox && for a in $(busybox --list); do [ "$a" = busybox ] || ln -sf busybox ${rootfs}/bin/$a; done && tar -C ${rootfs} -cf ${dir}/rootfs.tar .`]);
  docker('import', `${dir}/rootfs.tar`, 'berth-bench/busybox:1');
  const id = docker('run', '-d', '--network', 'none', 'berth-bench/busybox:1', '/bin/sleep', '3600');
  docker('exec', id, '/bin/true');
  const dockerExec = [];
  for (let i = 0; i < Math.min(runs, 20); i++) {
    const t0 = process.hrtime.bigint();
    docker('exec', id, '/bin/true');
    dockerExec.push(ms(t0));
  }
  docker('rm', '-f', id);
  const d = median(dockerExec);
  console.log(`docker exec on dockerd, p50 of ${dockerExec.length}: ${d.toFixed(1)} ms; agent is ${(d / median(agentExec)).toFixed(1)}x faster`);
}
rmSync(dir, { recursive: true, force: true });
