import { access } from 'node:fs/promises';

/** Whether something is at `p` (access() follows links: a dangling one counts as absent). */
export const pathExists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  );
