// Bundles Berth's executables with esbuild: the CLI, the runtime service,
// the in-container agent, the VS Code extension and the gateway's web dashboard.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmod, copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  logLevel: 'warning',
  // jsonc-parser's UMD build hides its requires from the bundler; use its ES module build.
  mainFields: ['module', 'main'],
  define: { BERTH_VERSION: JSON.stringify(version) },
};

const targets = [
  // ssh2 (with its optional native crypto) is loaded from node_modules beside the bundle.
  { entryPoints: ['src/cli/berth.ts'], outfile: 'dist/berth-cli.js', external: ['ssh2', 'bufferutil'] },
  // `berth` itself: loads berth-cli.js with V8's code cache (no compile of the whole bundle on every command).
  { entryPoints: ['src/cli/launcher.ts'], outfile: 'dist/berth.js', banner: { js: '#!/usr/bin/env node' }, executable: true, sourcemap: false },
  // ws masks WebSocket frames with bufferutil's native code when it is there (node_modules beside the bundle).
  { entryPoints: ['src/engine/berthd.ts'], outfile: 'dist/berthd.js', banner: { js: '#!/usr/bin/env node' }, executable: true, external: ['bufferutil'] },
  // node-pty and ssh2 (with its native crypto) are loaded from node_modules beside the bundle.
  { entryPoints: ['server/src/agent.ts'], outfile: 'dist/berth-agent.js', external: ['node-pty', 'ssh2'] },
  // The extension carries its libraries (ssh2, ws) in the bundle: a .vsix has no node_modules. Their
  // optional native speed-ups (ssh2's sshcrypto.node and cpu-features, ws's bufferutil and
  // utf-8-validate) are required inside try/catch: left out, the pure JavaScript paths run.
  { entryPoints: ['extension/src/extension.ts'], outfile: 'extension/dist/extension.js', external: ['vscode', 'cpu-features', 'bufferutil', 'utf-8-validate', '*.node'] },
  // The dashboard `berth serve` serves (dist/dashboard beside dist/berth.js): a browser bundle with xterm.js.
  { entryPoints: ['dashboard/src/app.ts'], outfile: 'dist/dashboard/app.js', platform: 'browser', format: 'iife', target: 'es2022', minify: true },
];

await Promise.all(
  targets.map(async ({ executable, ...options }) => {
    await build({ ...common, ...options });
    if (executable) await chmod(path.join(root, options.outfile), 0o755);
  }),
);

// The CLI bundle runs as a vm script (src/cli/launcher.ts), where import() has no loader: externals load with require.
if (/\bimport\(\s*["']/.test(await readFile(path.join(root, 'dist/berth-cli.js'), 'utf8'))) {
  throw new Error('dist/berth-cli.js has a dynamic import() of an external module: load it with require (see src/cli/load-ssh2.ts)');
}

await mkdir(path.join(root, 'dist', 'dashboard'), { recursive: true });
for (const [from, to] of [
  ['dashboard/index.html', 'index.html'],
  ['dashboard/app.css', 'app.css'],
  ['node_modules/@xterm/xterm/css/xterm.css', 'xterm.css'],
]) {
  await copyFile(path.join(root, from), path.join(root, 'dist', 'dashboard', to));
}

// devcontainer.json's JSON Schema for the extension, from the validator's own schema.
await build({ ...common, entryPoints: ['extension/src/schema/write-schema.ts'], outfile: 'out/build/write-schema.js', sourcemap: false });
execFileSync(process.execPath, ['out/build/write-schema.js', 'extension/dist/devcontainer.schema.json'], { cwd: root, stdio: 'inherit' });

// The container shim is C: it must stay tiny and outlive the daemon.
execFileSync('gcc', ['-Wall', '-Wextra', '-Werror', '-O2', '-o', 'dist/berth-shim', 'src/engine/shim/berth-shim.c'], { cwd: root, stdio: 'inherit' });
// The agent's native calls (server/src/native.ts: memory release, pipe sizes): N-API, against the headers of the node that builds.
const nodeHeaders = path.join(path.dirname(process.execPath), '..', 'include', 'node');
execFileSync('gcc', ['-Wall', '-Wextra', '-Werror', '-O2', '-shared', '-fPIC', '-I', nodeHeaders, '-o', 'dist/berth-agent-native.node', 'server/native/agent-native.c'], { cwd: root, stdio: 'inherit' });
// Published TCP ports: a splice(2) proxy per port, in C for throughput.
execFileSync('gcc', ['-Wall', '-Wextra', '-Werror', '-O2', '-pthread', '-o', 'dist/berth-proxy', 'src/engine/network/berth-proxy.c'], { cwd: root, stdio: 'inherit' });
