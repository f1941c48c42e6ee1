/**
 * The agent bundle the engine mounts read-only into containers (at /.berth):
 * the host's node with its own dynamic loader and libraries, the agent
 * bundle and its native modules. It runs in any image (busybox, distroless,
 * musl) because nothing in it comes from the image.
 *
 *   /.berth/lib/ld-linux-x86-64.so.2, libc.so.6, libstdc++.so.6, ...
 *   /.berth/bin/node
 *   /.berth/agent/berth-agent.js, berth-agent-native.node, node_modules/{ssh2,node-pty,...}
 */
import { constants } from 'node:fs';
import { copyFile, cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../common/errors';
import { runChecked } from '../../common/process/spawn';

/** Where the bundle appears inside a container. */
export const AGENT_MOUNT_POINT = '/.berth';

export interface AgentBundleSources {
  /** The node binary to ship (default: the engine's own). */
  readonly nodeBinary: string;
  /** dist/berth-agent.js */
  readonly agentScript: string;
  /** node_modules holding the agent's runtime packages. */
  readonly nodeModules: string;
}

/**
 * How node runs the agent: a young generation of 1 MiB (not 16: the tunnel's
 * buffers die young, and a big nursery only holds more of them at once),
 * V8's collector and compilers on the main thread (a heap this small gains
 * nothing from concurrent helpers, which cost CPU and malloc arenas), and
 * gc() for the agent's read slabs, which ask for a scavenge every few MiB
 * (server/src/slab-source.ts).
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--single-threaded', '--expose-gc'];

/** The agent's native calls (memory release, pipe sizes), built beside its script (server/src/native.ts names it too). */
const NATIVE_MODULE = 'berth-agent-native.node';

const nativeModule = (sources: AgentBundleSources): string => path.join(path.dirname(sources.agentScript), NATIVE_MODULE);

/** Packages the agent loads at run time (everything else is in the bundle). */
const RUNTIME_PACKAGES = ['ssh2', 'node-pty'];

/** The shared libraries (and the loader) a binary needs, from ldd. */
export async function sharedLibraries(binary: string, options: { signal?: AbortSignal } = {}): Promise<{ libs: string[]; loader: string }> {
  const { stdout } = await runChecked(['ldd', binary], options);
  const libs: string[] = [];
  let loader = '';
  for (const line of stdout.toString('utf8').split('\n')) {
    const arrow = /=>\s+(\/\S+)/.exec(line);
    if (arrow?.[1]) libs.push(arrow[1]);
    else {
      const bare = /^\s*(\/\S+ld-linux\S*)/.exec(line);
      if (bare?.[1]) loader = bare[1];
    }
  }
  if (!loader) throw new BerthError('failed_precondition', `cannot find the dynamic loader of ${binary} (is it statically linked?)`);
  return { libs, loader };
}

async function packageClosure(nodeModules: string, roots: readonly string[]): Promise<string[]> {
  const seen = new Set<string>();
  const visit = async (name: string, optional: boolean): Promise<void> => {
    if (seen.has(name)) return;
    let pkg: { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    try {
      pkg = JSON.parse(await readFile(path.join(nodeModules, name, 'package.json'), 'utf8')) as typeof pkg;
    } catch (err) {
      if (optional) return;
      throw new BerthError('failed_precondition', `the agent needs the npm package ${name} in ${nodeModules}`, { cause: err });
    }
    seen.add(name);
    for (const dep of Object.keys(pkg.dependencies ?? {})) await visit(dep, false);
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) await visit(dep, true);
  };
  for (const root of roots) await visit(root, false);
  return [...seen].sort();
}

/** The JavaScript files of ssh2: patches/ssh2+*.patch changes some of them, not the package's version. */
async function ssh2Sources(nodeModules: string): Promise<string[]> {
  const lib = path.join(nodeModules, 'ssh2', 'lib');
  const names = await readdir(lib, { recursive: true }).catch((err: unknown) => {
    throw new BerthError('failed_precondition', `the agent bundle needs ${lib}: is Berth built (npm run build)?`, { cause: err });
  });
  return names.filter((n) => n.endsWith('.js')).sort().map((n) => path.join(lib, n));
}

/** A digest of what goes into the bundle, so an unchanged bundle is reused. */
async function fingerprint(sources: AgentBundleSources): Promise<string> {
  const parts = await Promise.all(
    [
      sources.nodeBinary,
      sources.agentScript,
      nativeModule(sources),
      path.join(sources.nodeModules, 'ssh2', 'package.json'),
      ...(await ssh2Sources(sources.nodeModules)),
      path.join(sources.nodeModules, 'node-pty', 'package.json'),
    ].map(
      async (p) => {
        const st = await stat(p).catch((err: unknown) => {
          throw new BerthError('failed_precondition', `the agent bundle needs ${p}: is Berth built (npm run build)?`, { cause: err });
        });
        return `${p}:${st.size}:${st.mtimeMs}`;
      },
    ),
  );
  return parts.join('|');
}

/**
 * Builds (or reuses) the bundle in `dir`. Built in a temporary sibling and
 * renamed into place, so a crash never leaves half a bundle.
 */
export async function prepareAgentBundle(dir: string, sources: AgentBundleSources, options: { signal?: AbortSignal } = {}): Promise<string> {
  const stamp = await fingerprint(sources);
  const existing = await readFile(path.join(dir, '.stamp'), 'utf8').catch(() => '');
  if (existing === stamp) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(path.join(tmp, 'lib'), { recursive: true });
  await mkdir(path.join(tmp, 'bin'));
  await mkdir(path.join(tmp, 'agent', 'node_modules'), { recursive: true });
  const seenLibs = new Set<string>();
  const nativeModules = [sources.nodeBinary, nativeModule(sources)];
  const packages = await packageClosure(sources.nodeModules, RUNTIME_PACKAGES);
  for (const name of packages) {
    await cp(path.join(sources.nodeModules, name), path.join(tmp, 'agent', 'node_modules', name), { recursive: true, dereference: true });
  }
  // Native modules built here (build/Release); prebuilds for other platforms are not ours to load.
  const { stdout } = await runChecked(['find', path.join(tmp, 'agent', 'node_modules'), '-path', '*/build/Release/*.node', '-type', 'f'], options);
  nativeModules.push(...stdout.toString('utf8').split('\n').filter(Boolean));
  let loader = '';
  for (const binary of nativeModules) {
    const found = await sharedLibraries(binary, options);
    loader ||= found.loader;
    for (const lib of [...found.libs, found.loader]) {
      const name = path.basename(lib);
      if (seenLibs.has(name)) continue;
      seenLibs.add(name);
      await copyFile(lib, path.join(tmp, 'lib', name));
    }
  }
  await copyFile(sources.nodeBinary, path.join(tmp, 'bin', 'node'), constants.COPYFILE_FICLONE);
  await copyFile(sources.agentScript, path.join(tmp, 'agent', 'berth-agent.js'));
  await copyFile(nativeModule(sources), path.join(tmp, 'agent', NATIVE_MODULE));
  await writeFile(path.join(tmp, 'loader'), path.basename(loader));
  await writeFile(path.join(tmp, '.stamp'), stamp);
  await runChecked(['chmod', '-R', 'a+rX', tmp], options);
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return dir;
}

/**
 * The argv that starts the agent inside a container with the bundle mounted
 * at AGENT_MOUNT_POINT: through the bundled loader, so the image's libc
 * (or its absence) does not matter.
 */
export async function agentArgv(bundleDir: string, keys: { hostKey: string; authorizedKeys: string }): Promise<string[]> {
  const loader = (await readFile(path.join(bundleDir, 'loader'), 'utf8')).trim();
  const m = AGENT_MOUNT_POINT;
  return [
    `${m}/lib/${loader}`,
    '--library-path',
    `${m}/lib`,
    `${m}/bin/node`,
    ...AGENT_NODE_FLAGS,
    `${m}/agent/berth-agent.js`,
    '--host-key',
    keys.hostKey,
    '--authorized-keys',
    keys.authorizedKeys,
  ];
}
