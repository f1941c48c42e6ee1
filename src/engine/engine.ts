/**
 * The engine's composition root: builds the services from the data root and
 * hands them to the API servers. Disposal is in reverse order and leaves
 * containers running.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../common/log';
import type { Digest } from '../api/types/oci';
import type { AgentBundleSources } from './agent/bundle';
import { AgentBundle, AgentService } from './agent/service';
import { Artifacts } from './artifacts/artifacts';
import type { ArtifactService } from './server/services';
import { Builder } from './builder/builder';
import { StepImages } from './builder/step-images';
import { EventBus } from './containers/events';
import { ContainerManager } from './containers/manager';
import { createRuntime, runtimeAvailable, type OciRuntime, type RuntimeName } from './oci/runtime';
import { ContentStore } from './content/store';
import { LocalImageStore } from './images/store';
import { credentialsFromConfigFile } from './registry/auth';
import { RegistryClient } from './registry/client';
import { RequestCredentialScope } from './registry/request-credentials';
import { NetworkManager } from './network/manager';
import { unavailableNetworks } from './network/unavailable';
import { chooseSnapshotter, type SnapshotterName } from './snapshots/choose';
import type { LayerSnapshotter } from './snapshots/dir-snapshotter';
import { LayerUnpacker } from './snapshots/unpacker';
import type { EngineServices, NetworkService } from './server/services';
import { ContainerMounts } from './volumes/container-mounts';
import { VolumeStore } from './volumes/store';

const TINI = '/usr/bin/tini-static';

export interface EngineOptions {
  readonly dataRoot: string;
  readonly execRoot: string;
  /** The runtime for new containers; containers made with the other one keep it. */
  readonly runtime: RuntimeName;
  readonly logger: Logger;
  /** Path of the berth-shim binary (built beside the bundles in dist/). */
  readonly shimBinary: string;
  /** Path of the berth-proxy binary for published TCP ports (absent or missing: node proxies them). */
  readonly proxyBinary?: string;
  /** Registries reached over plain HTTP besides 127.0.0.1, localhost and [::1] ("host" or "host:port"). */
  readonly insecureRegistries?: readonly string[];
  /** What the in-container agent is made of (absent: containers cannot get the agent). */
  readonly agentSources?: AgentBundleSources;
  /** Default: overlay where it works under the data root, else native (plain copies). */
  readonly snapshotter?: SnapshotterName;
  /** A Docker config.json with registry credentials (`auths`), read at each pull and push. */
  readonly registryAuthFile?: string;
}

export interface Engine extends EngineServices {
  readonly agent: AgentService;
  readonly artifacts: ArtifactService;
  readonly snapshotter: LayerSnapshotter;
  counts(): Promise<{ containers: { total: number; running: number }; images: number }>;
  readonly networks: NetworkService;
  /** Stops watching containers (they keep running); closes published ports, removes the engine's iptables chains and idle bridges. */
  dispose(): Promise<void>;
}

export async function createEngine(options: EngineOptions): Promise<Engine> {
  const { dataRoot, logger } = options;
  await mkdir(dataRoot, { recursive: true, mode: 0o711 });
  await mkdir(options.execRoot, { recursive: true, mode: 0o711 });
  const events = new EventBus();
  const content = new ContentStore(path.join(dataRoot, 'content'));
  const { snapshotter, fellBack } = await chooseSnapshotter(path.join(dataRoot, 'snapshots'), options.snapshotter);
  if (fellBack) logger.warn('overlay mounts do not work under the data root; using plain copies (slower, more disk)', { dataRoot });
  const unpacker = new LayerUnpacker(snapshotter, logger.child({ component: 'unpacker' }));
  const stale = await unpacker.cleanupStale();
  if (stale > 0) logger.info('removed half-unpacked layers left by an earlier run', { count: stale });
  // The image store asks the containers whether an image is in use; they are made right after it.
  const holder: { containers?: ContainerManager } = {};
  // Which containers use a volume is read from their records, never stored apart.
  const volumes = new VolumeStore({
    root: path.join(dataRoot, 'volumes'),
    logger: logger.child({ component: 'volumes' }),
    usage: async () => {
      const used = new Map<string, string[]>();
      for (const c of (await holder.containers?.list({ all: true })) ?? []) {
        for (const m of c.mounts ?? []) if (m.type === 'volume' && m.name) used.set(m.name, [...(used.get(m.name) ?? []), c.id]);
      }
      return used;
    },
  });
  await volumes.init();
  const registryCredentials = new RequestCredentialScope();
  const registry = new RegistryClient({
    logger: logger.child({ component: 'registry' }),
    ...(options.insecureRegistries?.length ? { insecureRegistries: ['127.0.0.1', 'localhost', '[::1]', ...options.insecureRegistries] } : {}),
    credentials: registryCredentials.lookup(options.registryAuthFile ? credentialsFromConfigFile(options.registryAuthFile) : undefined),
  });
  const images = new LocalImageStore({
    root: path.join(dataRoot, 'images'),
    content,
    registry,
    unpacker,
    logger: logger.child({ component: 'images' }),
    events,
    isInUse: async (id: Digest) => (await holder.containers?.list({ all: true }))?.some((c) => c.imageId === id) ?? false,
  });
  const other: RuntimeName = options.runtime === 'crun' ? 'runc' : 'crun';
  const otherRuntimes: OciRuntime[] = (await runtimeAvailable(other)) ? [await createRuntime({ name: other, root: path.join(options.execRoot, other) })] : [];
  const networkManager = await NetworkManager.create({
    dataRoot,
    execRoot: options.execRoot,
    logger: logger.child({ component: 'network' }),
    containers: async () => (await holder.containers?.list({ all: true })) ?? [],
    ...(options.proxyBinary && existsSync(options.proxyBinary) ? { proxyBinary: options.proxyBinary } : {}),
  }).catch((err: unknown) => {
    // Without iptables or CAP_NET_ADMIN the engine still runs containers, with loopback only.
    logger.warn('networking is off: containers get loopback only', { error: err instanceof Error ? err.message : String(err) });
    return String(err instanceof Error ? err.message : err);
  });
  const networks = typeof networkManager === 'string' ? unavailableNetworks(networkManager) : networkManager;
  const stepImages = new StepImages();
  const agentBundle = new AgentBundle(path.join(dataRoot, 'agent'), options.agentSources);
  const containers = new ContainerManager({
    root: path.join(dataRoot, 'containers'),
    execRoot: options.execRoot,
    runtime: await createRuntime({ name: options.runtime, root: path.join(options.execRoot, options.runtime) }),
    otherRuntimes,
    agentBundle: (o) => agentBundle.path(o),
    shim: options.shimBinary,
    snapshotter,
    resolveImage: async (ref) => {
      const step = stepImages.get(ref);
      if (step) return step;
      const image = await images.get(ref);
      return { id: image.id, snapshotParent: image.layers.at(-1)?.chainId, config: image.config.config ?? {} };
    },
    events,
    logger: logger.child({ component: 'containers' }),
    mounts: new ContainerMounts(volumes, logger.child({ component: 'mounts' })),
    ...(typeof networkManager === 'string' ? {} : { network: networkManager }),
    // Debian's static tini reaps zombies as PID 1 for `init: true` containers.
    ...(existsSync(TINI) ? { initBinary: TINI } : {}),
  });
  holder.containers = containers;
  const summary = await containers.reconcile();
  logger.info('containers reconciled', { ...summary });
  const manager = containers;
  const builder = new Builder({ root: path.join(dataRoot, 'builder'), content, images, snapshotter, unpacker, containers, stepImages, logger: logger.child({ component: 'builder' }) });
  await builder.init();
  return {
    builder,
    artifacts: new Artifacts(registry, content),
    images,
    containers: manager,
    agent: new AgentService(manager, agentBundle, logger.child({ component: 'agent' })),
    events,
    volumes,
    registryCredentials,
    registryLogin: (host, creds, o) => registry.transport.login(host, creds, o),
    snapshotter,
    networks,
    dispose: async () => {
      manager.dispose();
      if (typeof networkManager === 'string') return;
      await networkManager.dispose().then(
        () => logger.info('published ports closed; our iptables chains and idle bridges removed'),
        (err: unknown) => logger.warn('cannot clean up networking', { error: String(err) }),
      );
    },
    counts: async () => {
      const all = await manager.list({ all: true });
      return { containers: { total: all.length, running: all.filter((c) => c.state.status === 'running').length }, images: (await images.list()).length };
    },
  };
}
