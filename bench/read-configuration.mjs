#!/usr/bin/env node
// Benchmark: `berth read-configuration` vs the reference `devcontainer read-configuration`
// on the same workspace, same run. Prints medians and the ratio.
//   node bench/read-configuration.mjs [--runs N] [--workspace DIR]
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(opt('runs', '15'));
const workspace = path.resolve(opt('workspace', path.join(root, 'examples', 'hello')));
const reference =
  process.env.BERTH_REFERENCE_CLI ?? execFileSync('bash', [path.join(root, '..', 'shared', 'anchors', 'reference-cli.sh')], { encoding: 'utf8' }).trim();

function time(argv) {
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  return ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const berthArgv = [process.execPath, path.join(root, 'dist', 'berth.js'), 'read-configuration', '--workspace-folder', workspace];
const refArgv = [reference, 'read-configuration', '--workspace-folder', workspace, '--docker-path', '/bin/true'];
const b = [];
const r = [];
time(berthArgv);
time(refArgv);
for (let i = 0; i < runs; i++) {
  b.push(time(berthArgv));
  r.push(time(refArgv));
}
const mb = median(b);
const mr = median(r);
console.log(`read-configuration (${runs} runs, median): berth ${mb.toFixed(1)} ms, reference ${mr.toFixed(1)} ms`);
console.log(`ratio berth/reference: ${(mb / mr).toFixed(2)}x (reference is ${(mr / mb).toFixed(2)}x slower)`);
