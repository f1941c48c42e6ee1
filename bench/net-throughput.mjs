#!/usr/bin/env node
// TCP throughput host -> container through a published port (`-p`), Berth vs
// Debian's dockerd (../shared/anchors/dockerd.sh), in the same run, same
// docker CLI, same busybox image and sink (a static reader, bind-mounted).
// Berth publishes through berth-proxy (C, splice(2), one process per port); dockerd (started with
// --bridge=none --iptables=false) gets a user network of its own for the run,
// so its published port goes through docker-proxy, its userland proxy.
// Also printed: Berth's direct path to the container address (bridge, no proxy).
// Usage: node bench/net-throughput.mjs [--mib 1024] [--runs 3] [--no-docker]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) || dflt : dflt);
const mib = opt('--mib', 1024);
const runs = opt('--runs', 3);
const withDocker = !args.includes('--no-docker');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const { startRegistry } = require(path.join(root, 'out/test/support/registry.js'));
const { ensureTestImages } = require(path.join(root, 'out/test/support/test-images.js'));

const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-net-'));
const socket = path.join(dir, 'run', 'berth.sock');
const berthEnv = { ...process.env, DOCKER_HOST: `unix://${path.join(dir, 'run', 'docker.sock')}` };
const berth = (...a) => execFileSync(process.execPath, [path.join(root, 'dist/berth.js'), ...a, '--socket', socket], { encoding: 'utf8' });
const docker = (env, ...a) => execFileSync('docker', a, { env, encoding: 'utf8' }).trim();
/** ../shared/anchors/dockerd.sh above the checkout (a worktree sits one level deeper). */
function anchor() {
  for (let d = root; path.dirname(d) !== d; d = path.dirname(d)) {
    const f = path.join(d, 'shared', 'anchors', 'dockerd.sh');
    if (existsSync(f)) return f;
  }
  throw new Error('shared/anchors/dockerd.sh not found above the checkout');
}
/** The sink: a static C program (busybox nc tops out below the proxies), bind-mounted into both containers. */
function buildSink() {
  const src = path.join(dir, 'sink.c');
  writeFileSync(
    src,
    `#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
static char buf[1 << 20];
int main(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5001) };
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 16) < 0) return 1;
  for (;;) {
    int c = accept(s, 0, 0);
    if (c < 0) continue;
    while (read(c, buf, sizeof buf) > 0);
    close(c);
  }
}
`,
  );
  execFileSync('gcc', ['-static', '-O2', '-o', path.join(dir, 'sink'), src]);
  return ['-v', `${path.join(dir, 'sink')}:/sink:ro`];
}
const SINK = ['/sink'];

/** Sends `mib` MiB to host:port and waits until the far end closed; MB/s (10^6 bytes). */
function send(host, port) {
  const chunk = Buffer.alloc(1024 * 1024, 7);
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const s = net.connect({ host, port, allowHalfOpen: true });
    s.on('error', reject);
    s.on('close', () => resolve((mib * 1024 * 1024) / 1e6 / (Number(process.hrtime.bigint() - t0) / 1e9)));
    s.on('data', () => undefined);
    let left = mib;
    const pump = () => {
      while (left > 0) {
        left--;
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
      s.end();
    };
    s.once('connect', pump);
  });
}

async function measure(label, host, port) {
  const rates = [];
  for (let i = 0; i < runs + 1; i++) {
    const rate = await send(host, port).catch(async () => {
      await new Promise((r) => setTimeout(r, 500));
      return send(host, port);
    });
    if (i > 0) rates.push(rate); // the first run warms up
  }
  const m = median(rates);
  console.log(`${label}: median of ${runs} x ${mib} MiB: ${m.toFixed(0)} MB/s (runs: ${rates.map((r) => r.toFixed(0)).join(', ')})`);
  return m;
}

const registry = await startRegistry();
let dockerNet;
let dockerHost;
try {
  const images = await ensureTestImages(registry);
  const image = images.latest;
  berth('engine', 'start', '--data-root', path.join(dir, 'data'));
  berth('pull', image);
  const sinkMount = buildSink();
  docker(berthEnv, 'run', '-d', '--name', 'bench-sink', '-p', '0:5001', ...sinkMount, image, ...SINK);
  const berthPort = Number(docker(berthEnv, 'port', 'bench-sink', '5001/tcp').split(':').pop());
  const berthIp = docker(berthEnv, 'inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'bench-sink');
  console.log(`Berth: ${os.cpus().length} CPUs, ${mib} MiB per run; sink in busybox, published on 127.0.0.1:${berthPort}`);
  const berthRate = await measure('berthd, published port (berth-proxy, splice)', '127.0.0.1', berthPort);
  const directRate = await measure('berthd, container address on the bridge (no proxy)', berthIp, 5001);
  if (!withDocker) {
    console.log('dockerd: skipped (--no-docker)');
  } else {
    try {
      dockerHost = execFileSync('bash', [anchor(), 'start'], { encoding: 'utf8' }).trim();
    } catch (err) {
      console.log(`dockerd: cannot be used (${String(err.message ?? err).split('\n')[0]}); no ratio`);
    }
    if (dockerHost) {
      const denv = { ...process.env, DOCKER_HOST: dockerHost };
      docker(denv, 'pull', '-q', image);
      // The anchor runs with --bridge=none: a user network of our own for this run, removed at the end.
      dockerNet = `berth-bench-${process.pid}`;
      docker(denv, 'network', 'create', dockerNet);
      docker(denv, 'run', '-d', '--name', dockerNet, '--network', dockerNet, '-p', '0:5001', ...sinkMount, image, ...SINK);
      const port = Number(docker(denv, 'port', dockerNet, '5001/tcp').split('\n')[0].split(':').pop());
      const proxy = execFileSync('sh', ['-c', `pgrep -af docker-proxy | grep -c -- '-host-port ${port}' || true`], { encoding: 'utf8' }).trim();
      console.log(`dockerd: published on 127.0.0.1:${port}; docker-proxy processes for it: ${proxy}`);
      const dockerRate = await measure('dockerd, published port (docker-proxy)', '127.0.0.1', port);
      console.log(`published-port throughput: berthd ${berthRate.toFixed(0)} MB/s vs dockerd ${dockerRate.toFixed(0)} MB/s = berthd/dockerd ${(berthRate / dockerRate).toFixed(2)}x`);
      console.log(`(berthd's direct bridge path: ${directRate.toFixed(0)} MB/s)`);
    }
  }
} finally {
  if (dockerNet && dockerHost) {
    const denv = { ...process.env, DOCKER_HOST: dockerHost };
    try {
      docker(denv, 'rm', '-f', dockerNet);
      docker(denv, 'network', 'rm', dockerNet);
    } catch (err) {
      console.error(`cleanup of dockerd's network failed: ${err.message}`);
    }
  }
  try {
    docker(berthEnv, 'rm', '-f', 'bench-sink');
  } catch {
    /* not made */
  }
  try {
    berth('engine', 'stop');
  } catch {
    /* not started */
  }
  await registry.stop();
  rmSync(dir, { recursive: true, force: true });
}
