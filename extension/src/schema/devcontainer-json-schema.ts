/**
 * devcontainer.json's JSON Schema for the editor's completions and hovers,
 * made from the same schema Berth's validator checks with (src/config), so
 * that the two never disagree. The build writes it to
 * extension/dist/devcontainer.schema.json (package.json's jsonValidation).
 */
import { devcontainerSchema } from '../../../src/config/devcontainer-schema';

export function devcontainerJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Dev container configuration (Berth)',
    allowComments: true,
    allowTrailingCommas: true,
    ...(devcontainerSchema().json ?? {}),
  };
}
