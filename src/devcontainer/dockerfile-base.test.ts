import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dockerfileBaseImage } from './dockerfile-base';

test('the last stage, following FROM stage chains to an image', () => {
  const text = 'FROM debian:12 AS base\nRUN true\nFROM base AS dev\nRUN true\nFROM dev\n';
  assert.equal(dockerfileBaseImage(text), 'debian:12');
});

test('a target stage, global ARGs with defaults and build args, continuations and comments', () => {
  const text = '# syntax comment\nARG VARIANT=12\nARG REG\nFROM ${REG:-docker.io}/library/debian:${VARIANT} \\\n  AS one\nFROM busybox AS two\n';
  assert.equal(dockerfileBaseImage(text, { target: 'one' }), 'docker.io/library/debian:12');
  assert.equal(dockerfileBaseImage(text, { target: 'ONE', buildArgs: { VARIANT: '11', REG: 'r:5000' } }), 'r:5000/library/debian:11');
  assert.equal(dockerfileBaseImage(text), 'busybox');
});

test('scratch has no base image; a missing target and an empty FROM are errors', () => {
  assert.equal(dockerfileBaseImage('FROM scratch\nCOPY a /\n'), undefined);
  assert.throws(() => dockerfileBaseImage('FROM a AS x\n', { target: 'y' }), /target stage "y"/);
  assert.throws(() => dockerfileBaseImage('ARG IMG\nFROM $IMG\n'), /Dockerfile:2: FROM names no image/);
});

test('flags on FROM, the escape directive and backquote continuations', () => {
  assert.equal(dockerfileBaseImage('# escape=`\nFROM --platform=linux/amd64 `\n  alpine:3 AS x\nRUN dir c:\\\n'), 'alpine:3');
  assert.throws(() => dockerfileBaseImage('# only a comment\n'), /has no FROM/);
});
