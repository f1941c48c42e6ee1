/**
 * berthd, the Berth runtime service: the native API on a root-only unix
 * socket and the Docker Engine API on a second one. SIGTERM/SIGINT close
 * the sockets and leave containers running.
 *   berthd [--data-root DIR] [--socket PATH] [--docker-socket PATH] [--runtime runc|crun] (default: crun where it runs, else runc)
 *          [--snapshotter overlay|native] (default: overlay where it works)
 *          [--insecure-registry HOST[:PORT]]... [--registry-auth CONFIG_JSON] (default: ~/.docker/config.json)
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { enginePaths } from '../api/engine-paths';
import { createLogger } from '../common/log';
import { createEngine } from './engine';
import type { AgentBundleSources } from './agent/bundle';
import { chooseRuntime } from './oci/runtime';
import { agentUpgradeHandler } from './server/agent-socket';
import { containerHandlers } from './server/container-handlers';
import { serveApi } from './server/daemon-server';
import { createDockerHandler } from './server/docker/docker-server';
import { artifactHandlers } from './server/artifact-handlers';
import { buildHandlers } from './server/build-handlers';
import { imageHandlers } from './server/image-handlers';
import { systemHandlers } from './server/system-handlers';
import { networkHandlers } from './server/network-handlers';
import { volumeHandlers } from './server/volume-handlers';
import { listenUnix } from './server/unix-socket';

declare const BERTH_VERSION: string | undefined;
const VERSION = typeof BERTH_VERSION === 'string' ? BERTH_VERSION : 'dev';

/** The agent bundle's sources beside this berthd (dist/): berth-agent.js, and node_modules above it. */
function agentSourcesOption(): { agentSources?: AgentBundleSources } {
  const agentScript = path.join(__dirname, 'berth-agent.js');
  const nodeModules = path.join(__dirname, '..', 'node_modules');
  return existsSync(agentScript) && existsSync(nodeModules) ? { agentSources: { nodeBinary: process.execPath, agentScript, nodeModules } } : {};
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-root': { type: 'string' },
      socket: { type: 'string' },
      'docker-socket': { type: 'string' },
      runtime: { type: 'string' },
      'insecure-registry': { type: 'string', multiple: true },
      'registry-auth': { type: 'string' },
      snapshotter: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
    },
  });
  const logger = createLogger({ level: values['log-level'] as 'info', format: 'json', write: (l) => process.stderr.write(l) }, { component: 'berthd' });
  const paths = enginePaths({ ...(values['data-root'] ? { dataRoot: values['data-root'] } : {}), ...(values.socket ? { socketPath: values.socket } : {}) });
  if (values.runtime !== undefined && values.runtime !== 'runc' && values.runtime !== 'crun') throw new Error(`--runtime must be runc or crun, not ${values.runtime}`);
  const runtime = await chooseRuntime(values.runtime);
  const snapshotter = values.snapshotter;
  if (snapshotter !== undefined && snapshotter !== 'overlay' && snapshotter !== 'native') throw new Error(`--snapshotter must be overlay or native, not ${snapshotter}`);
  const engine = await createEngine({
    dataRoot: paths.dataRoot,
    execRoot: paths.execRoot,
    runtime,
    logger,
    shimBinary: path.join(__dirname, 'berth-shim'),
    proxyBinary: path.join(__dirname, 'berth-proxy'),
    ...agentSourcesOption(),
    ...(snapshotter ? { snapshotter } : {}),
    insecureRegistries: values['insecure-registry'] ?? [],
    // Where `docker login` run as this user keeps credentials, unless told otherwise.
    registryAuthFile: values['registry-auth'] ?? path.join(process.env['DOCKER_CONFIG'] ?? path.join(os.homedir(), '.docker'), 'config.json'),
  });
  const startedAt = new Date().toISOString();
  const api = await serveApi(
    paths.socketPath,
    {
      ...systemHandlers({ version: VERSION, dataRoot: paths.dataRoot, runtime, snapshotter: engine.snapshotter.name, startedAt, counts: () => engine.counts() }),
      ...imageHandlers(engine.images),
      ...buildHandlers(engine.builder),
      ...artifactHandlers(engine.artifacts),
      ...containerHandlers(engine.containers, engine.events),
      containerAgentCredentials: ({ params, signal }) => engine.agent.credentials(params.id, { signal }),
      ...volumeHandlers(engine.volumes),
      ...networkHandlers(engine.networks, engine.containers),
    },
    logger,
    agentUpgradeHandler(engine.agent, logger.child({ component: 'agent-socket' })),
  );
  const dockerSocket = values['docker-socket'] ?? `${paths.execRoot}/docker.sock`;
  const dockerHandler = createDockerHandler(engine, { version: VERSION, dataRoot: paths.dataRoot }, logger.child({ api: 'docker' }));
  const docker = http.createServer(dockerHandler.request);
  docker.on('upgrade', dockerHandler.upgrade);
  await listenUnix(docker, dockerSocket);
  logger.info('berthd ready', { pid: process.pid, socket: paths.socketPath, dockerSocket, dataRoot: paths.dataRoot });
  const shutdown = (signal: string): void => {
    logger.info('shutting down; containers keep running', { signal });
    docker.close();
    docker.closeAllConnections();
    void Promise.all([engine.dispose(), api.close()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`berthd: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
