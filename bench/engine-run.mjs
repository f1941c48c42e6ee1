#!/usr/bin/env node
// Benchmark container create+start+wait of `true`:
//   - through berthd's native API, with its default runtime (crun where it runs) and with --runtime runc
//   - `runc run` and `crun run` directly on the same bundle (a berthd container's bundle), interleaved
//   - `docker run --rm` against berthd and against Debian's dockerd (same docker CLI)
// and image pull+unpack (busybox; Debian with --debian) berthd vs dockerd.
// Needs root and a build (npm run build && npx tsc). Usage: node bench/engine-run.mjs [--runs 20] [--debian]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { ApiClient } = require(path.join(root, 'out/src/api/client.js'));
const { startRegistry } = require(path.join(root, 'out/test/support/registry.js'));
const { ensureTestImages, ensureDebianImage } = require(path.join(root, 'out/test/support/test-images.js'));
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] || 20) || 20;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async (fn) => {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const sh = (argv, env) => {
  const r = spawnSync(argv[0], argv.slice(1), { env: env ?? process.env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-engine-'));
const socket = path.join(dir, 'run', 'berth.sock');
const socketRunc = path.join(dir, 'run-runc', 'berth.sock');
const registry = await startRegistry();
const crunNs = path.join(dir, 'crun-mntns');
try {
  const images = await ensureTestImages(registry);
  // Engine A with its default runtime (crun where it runs), engine B with runc.
  sh([process.execPath, path.join(root, 'dist/berth.js'), 'engine', 'start', '--data-root', path.join(dir, 'data'), '--socket', socket]);
  sh([process.execPath, path.join(root, 'dist/berth.js'), 'engine', 'start', '--data-root', path.join(dir, 'data-runc'), '--socket', socketRunc, '--runtime', 'runc']);
  const client = new ApiClient({ socketPath: socket });
  const clientRunc = new ApiClient({ socketPath: socketRunc });
  const defaultRuntime = (await client.call('info')).runtime;
  const berthPull = await time(() => client.call('imageList').then(() => sh([process.execPath, path.join(root, 'dist/berth.js'), 'pull', images.latest, '--socket', socket])));
  sh([process.execPath, path.join(root, 'dist/berth.js'), 'pull', images.latest, '--socket', socketRunc]);
  const runOnce = async (c) => {
    const { id } = await c.call('containerCreate', { body: { image: images.latest, cmd: ['true'], networkMode: 'none' } });
    await c.call('containerStart', { params: { id } });
    await c.call('containerWait', { params: { id } });
    return id;
  };
  const ids = [[client, await runOnce(client)], [clientRunc, await runOnce(clientRunc)]];
  // The bare runtimes run the bundle of the first container (its rootfs is mounted).
  const bundle = (await client.call('containerInspect', { params: { id: ids[0][1] } })).bundle;
  const runcRoot = path.join(dir, 'runc-bench');
  const crunRoot = path.join(dir, 'crun-bench');
  // crun refuses hybrid cgroups: give it one mount namespace without the cgroup2 mount, as berthd's shim does.
  const hasCrun = spawnSync('crun', ['--version']).status === 0;
  const hybrid = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === '/sys/fs/cgroup/unified');
  if (hasCrun && hybrid) {
    writeFileSync(crunNs, '');
    sh(['unshare', `--mount=${crunNs}`, '--propagation', 'slave', 'sh', '-c', 'umount /sys/fs/cgroup/unified']);
  }
  const crunArgv = (id) => [...(hybrid ? ['nsenter', `--mount=${crunNs}`] : []), 'crun', '--root', crunRoot, 'run', '--bundle', bundle, id];
  const berth = [];
  const berthRunc = [];
  const runc = [];
  const crun = [];
  // Interleaved, so that load from elsewhere on the machine hits all of them alike.
  for (let i = 0; i < runs; i++) {
    berth.push(await time(async () => ids.push([client, await runOnce(client)])));
    runc.push(await time(async () => sh(['runc', '--root', runcRoot, 'run', '--bundle', bundle, `bench-${i}`])));
    berthRunc.push(await time(async () => ids.push([clientRunc, await runOnce(clientRunc)])));
    if (hasCrun) crun.push(await time(async () => sh(crunArgv(`bench-${i}`))));
  }
  for (const [c, id] of ids) await c.call('containerRemove', { params: { id }, query: { force: 'true' } });
  console.log(`create+start+wait of true, median of ${runs} (interleaved):`);
  const b = median(berth);
  const r = median(runc);
  console.log(`  berthd (${defaultRuntime}, its default here) ${b.toFixed(1)} ms | runc run directly ${r.toFixed(1)} ms | ratio ${(b / r).toFixed(2)}x bare runc (target <= 1.3x)`);
  console.log(`  berthd --runtime runc ${median(berthRunc).toFixed(1)} ms = ${(median(berthRunc) / r).toFixed(2)}x bare runc (the engine's own overhead on runc)`);
  if (hasCrun) console.log(`  crun run directly ${median(crun).toFixed(1)} ms: berthd (${defaultRuntime}) = ${(b / median(crun)).toFixed(2)}x bare crun`);
  const berthDockerEnv = { ...process.env, DOCKER_HOST: `unix://${path.join(dir, 'run', 'docker.sock')}` };
  const viaDockerCli = [];
  sh(['docker', 'run', '--rm', '--network', 'none', images.latest, 'true'], berthDockerEnv);
  for (let i = 0; i < Math.min(runs, 10); i++) viaDockerCli.push(await time(async () => sh(['docker', 'run', '--rm', '--network', 'none', images.latest, 'true'], berthDockerEnv)));

  const dockerHost = execFileSync('bash', [path.join(root, '..', 'shared', 'anchors', 'dockerd.sh'), 'start'], { encoding: 'utf8' }).trim();
  const denv = { ...process.env, DOCKER_HOST: dockerHost };
  // Start the reference from an empty image store (its own data root), so it downloads like we do.
  const cleanDockerd = () => spawnSync('docker', ['system', 'prune', '-af'], { env: denv });
  cleanDockerd();
  const dockerPull = await time(async () => sh(['docker', 'pull', '-q', images.latest], denv));
  sh(['docker', 'run', '--rm', '--network', 'none', images.latest, 'true'], denv);
  const dockerd = [];
  for (let i = 0; i < Math.min(runs, 10); i++) dockerd.push(await time(async () => sh(['docker', 'run', '--rm', '--network', 'none', images.latest, 'true'], denv)));

  const bd = median(viaDockerCli);
  const dd = median(dockerd);
  console.log(`docker run --rm true (same docker CLI), median: berthd ${bd.toFixed(1)} ms vs dockerd ${dd.toFixed(1)} ms = berthd ${(dd / bd).toFixed(2)}x faster (target >= 2x)`);
  console.log(`pull+unpack busybox from the local registry: berthd ${berthPull.toFixed(0)} ms vs dockerd ${dockerPull.toFixed(0)} ms = ${(dockerPull / berthPull).toFixed(2)}x`);
  if (args.includes('--debian')) {
    const debian = await ensureDebianImage(registry);
    const bp = await time(async () => sh([process.execPath, path.join(root, 'dist/berth.js'), 'pull', debian, '--socket', socket]));
    cleanDockerd();
    const dp = await time(async () => sh(['docker', 'pull', '-q', debian], denv));
    console.log(`pull+unpack debian:bookworm: berthd ${bp.toFixed(0)} ms vs dockerd ${dp.toFixed(0)} ms = ${(dp / bp).toFixed(2)}x`);
  }
} finally {
  spawnSync(process.execPath, [path.join(root, 'dist/berth.js'), 'engine', 'stop', '--socket', socket]);
  spawnSync(process.execPath, [path.join(root, 'dist/berth.js'), 'engine', 'stop', '--socket', socketRunc]);
  spawnSync('umount', [crunNs]);
  await registry.stop();
  rmSync(dir, { recursive: true, force: true });
}
