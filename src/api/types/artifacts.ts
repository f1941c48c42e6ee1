/**
 * OCI artifacts (not images) pulled and pushed through the engine's registry
 * client, with its credentials and insecure-registry settings: dev container
 * features (config `application/vnd.devcontainers`, one tar layer) and the
 * like. Small by nature: blobs travel base64-encoded in JSON (64 MiB at most).
 */

export interface ArtifactBlob {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
  /** The blob's bytes, base64. */
  readonly data: string;
}

export interface ArtifactPullRequest {
  /** registry/repository:tag or @sha256:... */
  readonly reference: string;
}

export interface ArtifactPullResult {
  readonly reference: string;
  /** The manifest's digest. */
  readonly digest: string;
  readonly artifactType?: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly config: ArtifactBlob;
  readonly layers: readonly ArtifactBlob[];
}

export interface ArtifactPushRequest {
  /** registry/repository (its tag is used only when `tags` is empty). */
  readonly reference: string;
  readonly tags: readonly string[];
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly config: { readonly mediaType: string; readonly data: string };
  readonly layers: readonly { readonly mediaType: string; readonly data: string; readonly annotations?: Readonly<Record<string, string>> }[];
}

export interface ArtifactPushResult {
  readonly digest: string;
  readonly tags: readonly string[];
}

export interface ArtifactTagsResult {
  readonly tags: readonly string[];
}
