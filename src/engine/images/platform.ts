/** Platform matching for multi-platform images. */
import type { Descriptor, Platform } from '../../api/types/oci';
import { BerthError } from '../../common/errors';

const ARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };

export function hostPlatform(): Platform {
  return { os: 'linux', architecture: ARCH[process.arch] ?? process.arch, ...(process.arch === 'arm64' ? { variant: 'v8' } : {}) };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** The manifest for `want` in an index: same os and architecture, variant when both give one. */
export function selectManifest(manifests: readonly Descriptor[], want: Platform, what: string): Descriptor {
  const candidates = manifests.filter(
    (m) => m.platform && m.platform.os === want.os && m.platform.architecture === want.architecture && (!want.variant || !m.platform.variant || m.platform.variant === want.variant),
  );
  const exact = candidates.find((m) => m.platform?.variant === want.variant) ?? candidates[0];
  if (!exact) {
    const offered = manifests.map((m) => (m.platform ? formatPlatform(m.platform) : '?')).join(', ');
    throw new BerthError('not_found', `${what} has no image for ${formatPlatform(want)} (it offers ${offered || 'none'})`);
  }
  return exact;
}
