/**
 * RUN: a container from the state (through the engine's container manager,
 * with the engine's default network mode unless the build asks for another),
 * its output streamed, its exit code checked, its upper directory stored as
 * a layer and unpacked into a snapshot named by the new ChainID.
 */
import path from 'node:path';
import type { LayerRecord } from '../../api/types/images';
import type { Digest } from '../../api/types/oci';
import { chainIds } from '../images/chain-id';
import { BerthError } from '../../common/errors';
import type { ContentStore } from '../content/store';
import { snapshotKey } from '../containers/context';
import type { ContainerManager } from '../containers/manager';
import type { LayerSnapshotter } from '../snapshots/dir-snapshotter';
import { type BuildState, runtimeConfig, stateId, topChain } from './build-state';
import { mkdirIn } from './copy-files';
import { storeDiff } from './layer-diff';
import type { StepImages } from './step-images';
import { withParentTree } from './work-root';

/** Mount points the runtime creates when the image lacks them; never part of a layer. */
const RUNTIME_ARTIFACTS = ['proc', 'sys', 'dev', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf', '.dockerenv'];
const OUTPUT_TAIL = 50;

export interface RunDeps {
  readonly containers: ContainerManager;
  readonly snapshotter: LayerSnapshotter;
  readonly content: ContentStore;
  readonly stepImages: StepImages;
}

export interface RunStep {
  readonly argv: readonly string[];
  /** Build args in scope ("K=V"), for this command only. */
  readonly env: readonly string[];
  readonly networkMode?: string;
  readonly onOutput: (line: string) => void;
  readonly onContainer: (id: string) => void;
  readonly signal?: AbortSignal;
}

export class RunFailed extends BerthError {
  constructor(
    readonly exitCode: number,
    readonly output: readonly string[],
    argv: readonly string[],
  ) {
    super('failed_precondition', `the command '${argv.join(' ')}' returned a non-zero code: ${exitCode}`, { details: { exitCode, output: output.join('\n') } });
  }
}

export async function runStep(deps: RunDeps, state: BuildState, step: RunStep): Promise<Omit<LayerRecord, 'chainId'>> {
  const config = runtimeConfig(state);
  const image = deps.stepImages.add({ id: `sha256:${stateId(state)}`, ...(topChain(state) ? { snapshotParent: topChain(state) } : {}), config });
  const signal = step.signal ? { signal: step.signal } : {};
  try {
    const envKeys = new Set((config.Env ?? []).map((kv) => kv.split('=')[0]));
    const record = await deps.containers.create(
      {
        image: image.name,
        entrypoint: [],
        cmd: [...step.argv],
        env: step.env.filter((kv) => !envKeys.has(kv.split('=')[0])),
        ...(config.User ? { user: config.User } : {}),
        ...(config.WorkingDir ? { workingDir: config.WorkingDir } : {}),
        ...(step.networkMode ? { networkMode: step.networkMode } : {}),
        labels: { 'berth.build': 'run' },
      },
      signal,
    );
    step.onContainer(record.id);
    try {
      if (config.WorkingDir) await mkdirIn(path.join(record.bundle, 'rootfs'), config.WorkingDir);
      const tail: string[] = [];
      await deps.containers.start(record.id, signal);
      for await (const l of deps.containers.logs(record.id, { follow: true, ...signal })) {
        step.onOutput(l.line);
        tail.push(l.line);
        if (tail.length > OUTPUT_TAIL) tail.shift();
      }
      const { exitCode } = await deps.containers.wait(record.id, signal);
      if (exitCode !== 0) throw new RunFailed(exitCode, tail, step.argv);
      const key = snapshotKey(record.id);
      const target = await deps.snapshotter.applyTarget(key);
      const { layer, exact } = await withParentTree(deps.snapshotter, target.mode, topChain(state), (parentTree) =>
        storeDiff(deps.content, target, { runtimeArtifacts: RUNTIME_ARTIFACTS, removeMountPoints: true, ...(parentTree ? { parentTree } : {}), ...signal }),
      );
      // The container's snapshot holds exactly the layer (the runtime's empty mount points are removed
      // from it): it becomes the layer's snapshot (removing the container then finds it gone), so the
      // layer is not unpacked again.
      if (exact) {
        const chainId = chainIds([...state.config.rootfs.diff_ids, layer.diffId]).at(-1) as Digest;
        await deps.snapshotter.commit(chainId, key).catch((err: unknown) => {
          if (!BerthError.is(err, 'already_exists')) throw err;
        });
      }
      return layer;
    } finally {
      await deps.containers.remove(record.id, { force: true, volumes: true });
    }
  } finally {
    image.release();
  }
}
