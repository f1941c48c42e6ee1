#!/usr/bin/env node
// Benchmark `berth up` against the reference `devcontainer up` (@devcontainers/cli, installed by
// ../shared/anchors/reference-cli.sh) on Debian's dockerd (../shared/anchors/dockerd.sh), same run,
// same image (busybox from the local test registry, already pulled into both engines):
//   - new container: no container for the workspace yet (removed before each run, not timed)
//   - existing container: running already, `up` finds it and runs postAttach only
// and the reference CLI on berthd's Docker API vs on dockerd (the engines compared under the same client).
// Each `up` runs a postCreateCommand and a postAttachCommand, so both tools exec into the container.
// Needs root and a build (./scripts/setup && npx tsc -p tsconfig.json). Usage: node bench/up.mjs [--runs 5]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const anchors = path.resolve(root, '..', 'shared', 'anchors');
const require = createRequire(import.meta.url);
const { startRegistry } = require(path.join(root, 'out/test/support/registry.js'));
const { ensureTestImages } = require(path.join(root, 'out/test/support/test-images.js'));
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] || 5) || 5;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const run = (argv, env) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { env: { ...process.env, ...env }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited with ${r.status}: ${r.stdout}\n${r.stderr}`);
  return { ms, stdout: r.stdout.trim() };
};
const berthJs = path.join(root, 'dist/berth.js');

const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-up-'));
const socket = path.join(dir, 'run', 'berth.sock');
const registry = await startRegistry();
let dockerHost = '';
try {
  const images = await ensureTestImages(registry);
  const reference = run(['bash', path.join(anchors, 'reference-cli.sh')]).stdout.split('\n').at(-1);
  dockerHost = run(['bash', path.join(anchors, 'dockerd.sh'), 'start']).stdout.split('\n').at(-1);
  run([process.execPath, berthJs, 'engine', 'start', '--data-root', path.join(dir, 'data'), '--socket', socket]);
  run([process.execPath, berthJs, 'pull', images.latest, '--socket', socket]);
  run(['docker', 'pull', '-q', images.latest], { DOCKER_HOST: dockerHost });

  // One workspace per tool, so that their id labels never meet. dockerd runs with --bridge=none: no network for both.
  const workspace = (name) => {
    const ws = path.join(dir, name);
    mkdirSync(path.join(ws, '.devcontainer'), { recursive: true });
    const config = { image: images.latest, runArgs: ['--network=none'], remoteUser: 'app', containerEnv: { FOO: 'bar' }, postCreateCommand: 'echo created > /tmp/created', postAttachCommand: 'true' };
    writeFileSync(path.join(ws, '.devcontainer', 'devcontainer.json'), JSON.stringify(config, null, 2));
    return ws;
  };
  const wsBerth = workspace('berth');
  const wsRef = workspace('reference');
  const wsRefBerth = workspace('reference-on-berth');
  const berthDocker = `unix://${path.join(dir, 'run', 'docker.sock')}`;
  const berthUp = () => run([process.execPath, berthJs, 'up', '--workspace-folder', wsBerth, '--socket', socket]);
  const berthDown = () => run([process.execPath, berthJs, 'down', '--workspace-folder', wsBerth, '--socket', socket]);
  const refUp = () => run([reference, 'up', '--workspace-folder', wsRef, '--docker-path', 'docker'], { DOCKER_HOST: dockerHost });
  const refBerthUp = () => run([reference, 'up', '--workspace-folder', wsRefBerth, '--docker-path', 'docker'], { DOCKER_HOST: berthDocker });
  const refBerthDown = () => {
    const ids = run(['docker', 'ps', '-aq', '--filter', `label=devcontainer.local_folder=${wsRefBerth}`], { DOCKER_HOST: berthDocker }).stdout.split('\n').filter(Boolean);
    if (ids.length) run(['docker', 'rm', '-f', ...ids], { DOCKER_HOST: berthDocker });
  };
  const refDown = () => {
    const ids = run(['docker', 'ps', '-aq', '--filter', `label=devcontainer.local_folder=${wsRef}`], { DOCKER_HOST: dockerHost }).stdout.split('\n').filter(Boolean);
    if (ids.length) run(['docker', 'rm', '-f', ...ids], { DOCKER_HOST: dockerHost });
  };
  // Warm-up (first runs load caches), then interleaved measurements.
  berthUp();
  berthDown();
  refUp();
  refDown();
  refBerthUp();
  refBerthDown();
  const res = { berthNew: [], refNew: [], berthExisting: [], refExisting: [], refBerthNew: [], refBerthExisting: [] };
  for (let i = 0; i < runs; i++) {
    res.berthNew.push(berthUp().ms);
    res.berthExisting.push(berthUp().ms);
    berthDown();
    res.refNew.push(refUp().ms);
    res.refExisting.push(refUp().ms);
    refDown();
    res.refBerthNew.push(refBerthUp().ms);
    res.refBerthExisting.push(refBerthUp().ms);
    refBerthDown();
  }
  const f = (ms) => `${ms.toFixed(0)} ms`;
  console.log(`up of an image-based devcontainer.json (busybox, postCreate + postAttach), median of ${runs}, interleaved:`);
  console.log(`  new container:      berth ${f(median(res.berthNew))}  reference ${f(median(res.refNew))}  -> berth is ${(median(res.refNew) / median(res.berthNew)).toFixed(2)}x faster (target >= 4x, < 500 ms)`);
  console.log(`  existing container: berth ${f(median(res.berthExisting))}  reference ${f(median(res.refExisting))}  -> berth is ${(median(res.refExisting) / median(res.berthExisting)).toFixed(2)}x faster`);
  console.log('the reference CLI itself on both engines (same client):');
  console.log(`  new container:      on berthd ${f(median(res.refBerthNew))}  on dockerd ${f(median(res.refNew))}  -> ${(median(res.refNew) / median(res.refBerthNew)).toFixed(2)}x`);
  console.log(`  existing container: on berthd ${f(median(res.refBerthExisting))}  on dockerd ${f(median(res.refExisting))}  -> ${(median(res.refExisting) / median(res.refBerthExisting)).toFixed(2)}x`);
} finally {
  spawnSync(process.execPath, [berthJs, 'engine', 'stop', '--socket', socket]);
  if (dockerHost) spawnSync('bash', [path.join(anchors, 'dockerd.sh'), 'stop']);
  await registry.stop();
  rmSync(dir, { recursive: true, force: true });
}
