import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The repository root, found from the compiled test's location (out/...) or the source. */
export function repoRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      const { name } = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string };
      if (name === 'berth') return dir;
    }
    if (path.dirname(dir) === dir) throw new Error(`no berth package.json above ${from}`);
  }
}

/** Path of the bundled CLI (built by `npm run build`). */
export function berthCli(): string {
  return path.join(repoRoot(), 'dist', 'berth.js');
}
