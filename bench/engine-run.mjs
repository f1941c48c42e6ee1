#!/usr/bin/env node
// Benchmark container create+start+wait of `true`:
//   - through berthd's native API
//   - `runc run` directly on the same kind of bundle (a berthd container's bundle)
//   - `docker run --rm` against berthd and against Debian's dockerd (same docker CLI)
// and image pull+unpack (busybox; Debian with --debian) berthd vs dockerd.
// Needs root and a build (npm run build && npx tsc). Usage: node bench/engine-run.mjs [--runs 20] [--debian]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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
const registry = await startRegistry();
try {
  const images = await ensureTestImages(registry);
  sh([process.execPath, path.join(root, 'dist/berth.js'), 'engine', 'start', '--data-root', path.join(dir, 'data'), '--socket', socket]);
  const client = new ApiClient({ socketPath: socket });
  const berthPull = await time(() => client.call('imageList').then(() => sh([process.execPath, path.join(root, 'dist/berth.js'), 'pull', images.latest, '--socket', socket])));
  const runOnce = async () => {
    const { id } = await client.call('containerCreate', { body: { image: images.latest, cmd: ['true'], networkMode: 'none' } });
    await client.call('containerStart', { params: { id } });
    await client.call('containerWait', { params: { id } });
    return id;
  };
  const ids = [await runOnce()];
  const berth = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    ids.push(await runOnce());
    berth.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  // runc directly on the bundle of the first container (its rootfs is mounted).
  const bundle = (await client.call('containerInspect', { params: { id: ids[0] } })).bundle;
  const runcRoot = path.join(dir, 'runc-bench');
  const runc = [];
  for (let i = 0; i < runs; i++) runc.push(await time(async () => sh(['runc', '--root', runcRoot, 'run', '--bundle', bundle, `bench-${i}`])));
  for (const id of ids) await client.call('containerRemove', { params: { id }, query: { force: 'true' } });
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

  const b = median(berth);
  const r = median(runc);
  console.log(`create+start+wait of true, median of ${runs}:`);
  console.log(`  berthd native API ${b.toFixed(1)} ms | runc run directly ${r.toFixed(1)} ms | ratio ${(b / r).toFixed(2)}x bare runc (target <= 1.3x)`);
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
  await registry.stop();
  rmSync(dir, { recursive: true, force: true });
}
