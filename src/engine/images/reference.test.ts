import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../common/errors';
import { selectManifest } from './platform';
import { canonicalReference, formatReference, parseReference } from './reference';

const digest = `sha256:${'ab'.repeat(32)}` as const;

describe('parseReference', () => {
  it('normalizes like Docker', () => {
    const cases: [string, string, string][] = [
      ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
      ['library/busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
      ['index.docker.io/foo/bar', 'docker.io/foo/bar:latest', 'foo/bar:latest'],
      ['127.0.0.1:5000/app', '127.0.0.1:5000/app:latest', '127.0.0.1:5000/app:latest'],
      ['localhost/a/b:v1', 'localhost/a/b:v1', 'localhost/a/b:v1'],
      ['ghcr.io/org/img:1.0-rc', 'ghcr.io/org/img:1.0-rc', 'ghcr.io/org/img:1.0-rc'],
      [`host:5000/app@${digest}`, `host:5000/app@${digest}`, `host:5000/app@${digest}`],
      [`busybox:1@${digest}`, `docker.io/library/busybox:1@${digest}`, `busybox:1@${digest}`],
    ];
    for (const [input, canonical, familiar] of cases) {
      const ref = parseReference(input);
      assert.equal(canonicalReference(ref), canonical, input);
      assert.equal(formatReference(ref), familiar, input);
    }
    assert.deepEqual(parseReference('127.0.0.1:5000/app'), { domain: '127.0.0.1:5000', path: 'app', tag: 'latest' });
    assert.equal(parseReference(`app@${digest}`).tag, undefined);
  });

  it('refuses malformed references', () => {
    for (const bad of ['', 'UPPER/case', 'a//b', 'app:bad/tag', 'app@sha256:123', 'app:-x', 'a/../b']) {
      assert.throws(() => parseReference(bad), (e: unknown) => BerthError.is(e, 'invalid_argument'), bad);
    }
  });
});

describe('selectManifest', () => {
  const m = (architecture: string, variant?: string): { mediaType: string; digest: `sha256:${string}`; size: number; platform: { os: string; architecture: string; variant?: string } } => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: `sha256:${(architecture + (variant ?? '')).padEnd(64, '0')}`,
    size: 1,
    platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
  });
  const list = [m('arm', 'v6'), m('arm', 'v7'), m('arm64', 'v8'), m('amd64')];
  it('matches os, architecture and variant', () => {
    assert.equal(selectManifest(list, { os: 'linux', architecture: 'amd64' }, 'x').platform?.architecture, 'amd64');
    assert.equal(selectManifest(list, { os: 'linux', architecture: 'arm', variant: 'v7' }, 'x').platform?.variant, 'v7');
    assert.equal(selectManifest(list, { os: 'linux', architecture: 'arm64' }, 'x').platform?.variant, 'v8');
    assert.equal(selectManifest([m('arm64')], { os: 'linux', architecture: 'arm64', variant: 'v8' }, 'x').platform?.architecture, 'arm64');
    assert.throws(() => selectManifest(list, { os: 'linux', architecture: 's390x' }, 'img:1'), (e: unknown) => BerthError.is(e, 'not_found') && /img:1 has no image for linux\/s390x/.test(e.message));
  });
});
