#!/usr/bin/env node
// Adds an OCI image index to an OCI image layout, built from manifests the
// layout already tags: make-index.mjs LAYOUT NAME TAG=OS/ARCH[/VARIANT]...
// The index is stored as a blob and tagged NAME in LAYOUT/index.json.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const REF = 'org.opencontainers.image.ref.name';
const [layout, name, ...pairs] = process.argv.slice(2);
if (!layout || !name || pairs.length === 0) {
  console.error('usage: make-index.mjs LAYOUT NAME TAG=OS/ARCH[/VARIANT]...');
  process.exit(2);
}

const indexPath = path.join(layout, 'index.json');
const top = JSON.parse(readFileSync(indexPath, 'utf8'));
const manifests = pairs.map((pair) => {
  const [tag, platform] = pair.split('=');
  const [os, architecture, variant] = (platform ?? '').split('/');
  if (!tag || !os || !architecture) throw new Error(`bad TAG=OS/ARCH: ${pair}`);
  const found = top.manifests.find((m) => m.annotations?.[REF] === tag);
  if (!found) throw new Error(`no manifest tagged ${tag} in ${layout}`);
  const { annotations: _annotations, ...descriptor } = found;
  return { ...descriptor, platform: { architecture, os, ...(variant ? { variant } : {}) } };
});

const blob = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
const hex = createHash('sha256').update(blob).digest('hex');
writeFileSync(path.join(layout, 'blobs', 'sha256', hex), blob);
top.manifests = top.manifests.filter((m) => m.annotations?.[REF] !== name);
top.manifests.push({
  mediaType: 'application/vnd.oci.image.index.v1+json',
  digest: `sha256:${hex}`,
  size: blob.length,
  annotations: { [REF]: name },
});
writeFileSync(indexPath, JSON.stringify(top));
