/**
 * Test support: a manager in its own process (the restart-safety test kills
 * it with SIGKILL). argv: fixture dirs as JSON, then containers as JSON
 * [{name, cmd}]; it starts them, prints {"ready":true} and waits forever.
 */
import type { FixtureDirs } from './testing';
import { createManager } from './testing';

async function main(): Promise<void> {
  const dirs = JSON.parse(process.argv[2] ?? '{}') as FixtureDirs;
  const specs = JSON.parse(process.argv[3] ?? '[]') as { name: string; cmd: string[] }[];
  const { manager } = await createManager(dirs);
  await manager.reconcile();
  for (const s of specs) {
    const c = await manager.create({ image: 'busybox', name: s.name, cmd: s.cmd });
    await manager.start(c.id);
  }
  process.stdout.write(JSON.stringify({ ready: true }) + '\n');
  setInterval(() => undefined, 1 << 30);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
