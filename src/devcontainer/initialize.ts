/**
 * `initializeCommand`: runs on the host, in the workspace folder, before
 * anything else (on every `up`, as in the reference). A string runs through
 * /bin/sh -c, an array directly, an object's entries in parallel; a failure
 * stops `up` with the command's exit code and output.
 */
import { BerthError } from '../common/errors';
import type { Logger } from '../common/log';
import { run } from '../common/process/spawn';
import type { LifecycleCommand } from '../config/types';

export interface InitializeOptions {
  readonly workspaceFolder: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

export async function runInitializeCommand(command: LifecycleCommand | undefined, options: InitializeOptions): Promise<'ran' | 'skipped'> {
  if (!command || (typeof command === 'object' && !Array.isArray(command) && Object.keys(command).length === 0)) return 'skipped';
  const parts: [string, string | readonly string[]][] =
    typeof command === 'string' || Array.isArray(command) ? [['', command as string | readonly string[]]] : Object.entries(command as Record<string, string | string[]>);
  await Promise.all(
    parts.map(async ([name, c]) => {
      const label = name ? `initializeCommand ${name}` : 'initializeCommand';
      const shown = typeof c === 'string' ? c : JSON.stringify(c);
      options.logger.info(`running ${label} on the host: ${shown}`);
      const argv = typeof c === 'string' ? ['/bin/sh', '-c', c] : [...c];
      const r = await run(argv, { cwd: options.workspaceFolder, env: options.env, ...(options.signal ? { signal: options.signal } : {}) }).catch((err: unknown) => {
        throw new BerthError('failed_precondition', `${label} could not run: ${shown}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      });
      const output = (r.stdout.toString('utf8') + r.stderr).trim();
      for (const line of output ? output.split('\n') : []) options.logger.info(line);
      if (r.code !== 0) {
        const how = r.signal ? `was killed by ${r.signal}` : `failed with exit code ${String(r.code)}`;
        throw new BerthError('failed_precondition', `${label} ${how}: ${shown}\n${output.slice(-4096)}`, { details: { hook: 'initializeCommand', exitCode: r.code ?? -1 } });
      }
    }),
  );
  return 'ran';
}
