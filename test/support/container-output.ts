/** Runs a script with sh in a new container of an image and answers its output (the container is removed after). */
import assert from 'node:assert/strict';
import type { ApiClient } from '../../src/api/client';

export async function containerOutput(client: ApiClient, image: string, script: string, user?: string): Promise<string> {
  const { id } = await client.call('containerCreate', { body: { image, entrypoint: ['/bin/sh', '-c'], cmd: [script], ...(user ? { user } : {}) } });
  try {
    await client.call('containerStart', { params: { id } });
    const { exitCode } = await client.call('containerWait', { params: { id } });
    let out = '';
    for await (const l of client.stream('containerLogs', { params: { id } })) out += `${l.line}\n`;
    assert.equal(exitCode, 0, out);
    return out;
  } finally {
    await client.call('containerRemove', { params: { id }, query: { force: 'true' } });
  }
}
