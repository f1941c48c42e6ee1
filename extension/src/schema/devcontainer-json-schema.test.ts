import assert from 'node:assert/strict';
import { test } from 'node:test';
import { devcontainerJsonSchema } from './devcontainer-json-schema';

test('JSON Schema: the validator\'s properties, types and enums, for completions', () => {
  const schema = devcontainerJsonSchema() as { type: string; properties: Record<string, Record<string, unknown>> };
  assert.equal(schema.type, 'object');
  assert.deepEqual(schema.properties['image'], { type: 'string', minLength: 1 });
  assert.equal(schema.properties['forwardPorts']?.['type'], 'array');
  const ports = schema.properties['portsAttributes'] as { additionalProperties: { properties: Record<string, { enum?: string[] }> } };
  assert.ok(ports.additionalProperties.properties['onAutoForward']?.enum?.includes('openBrowser'), JSON.stringify(ports));
  for (const name of ['build', 'features', 'customizations', 'postCreateCommand', 'remoteUser', 'mounts']) assert.ok(schema.properties[name], name);
  // Every schema node is plain JSON.
  assert.deepEqual(JSON.parse(JSON.stringify(schema)), schema);
});
