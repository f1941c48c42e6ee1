/** Build step (scripts/build.mjs): writes the JSON Schema to the path given as the first argument. */
import { writeFileSync } from 'node:fs';
import { devcontainerJsonSchema } from './devcontainer-json-schema';

const out = process.argv[2];
if (!out) throw new Error('usage: write-schema OUT.json');
writeFileSync(out, `${JSON.stringify(devcontainerJsonSchema(), null, 2)}\n`);
