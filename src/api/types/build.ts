/** Image builds from a Dockerfile: the options, the progress stream and the result. */
import type { Digest } from './oci';

export interface BuildOptions {
  /** Path of the Dockerfile inside the context (default "Dockerfile"). */
  readonly dockerfile?: string;
  /** Names for the image ("name:tag"). */
  readonly tags?: readonly string[];
  /** The stage to build (default: the last). */
  readonly target?: string;
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** Labels added to the final image. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Build every step again. */
  readonly noCache?: boolean;
  /** Pull base images even when they are stored already. */
  readonly pull?: boolean;
  /** Network mode of RUN containers (default: the engine's default for containers). */
  readonly networkMode?: string;
  /** Images (pulled when missing) whose history can stand in for steps, as Docker's classic builder's cache-from. */
  readonly cacheFrom?: readonly string[];
}

export interface BuildProgress {
  /** A line of text: "Step 2/5 : RUN make", " ---> Using cache", a RUN's output. */
  readonly stream: string;
}

export interface BuildResult {
  readonly id: Digest;
  readonly tags: readonly string[];
  /** Instructions executed (all stages built). */
  readonly steps: number;
  /** Of those, how many came from the cache. */
  readonly cached: number;
  /** Layers written by this build (0 for a fully cached rebuild). */
  readonly layersWritten: number;
  /** Containers created for RUN (0 for a fully cached rebuild). */
  readonly containersCreated: number;
}

export type BuildMessage =
  | { readonly progress: BuildProgress }
  | { readonly result: BuildResult }
  | { readonly error: { readonly code: string; readonly message: string; readonly details?: Readonly<Record<string, unknown>> } };
