/**
 * Consecutive lifecycle hooks in one exec. Where every command of the
 * hooks in a row is a string (each runs through /bin/sh -c anyway), a small
 * driver script runs them one by one, each in its own shell as separate
 * execs would, as the same user, in the same folder, with the same
 * environment, and prints a line with a random tag and the exit code after
 * each. What comes between two tag lines is one command's output; a
 * failing command stops the rest, and its marker-keeping hooks that
 * finished are recorded. One exec instead of one per command: each costs a
 * runtime start and cgroup joins (20-45 ms here).
 */
import { randomBytes } from 'node:crypto';
import { BerthError } from '../common/errors';
import { recordHook, type ExecContext, type PlannedHook } from './lifecycle';

/** Whether a planned hook can go into a batch: string commands only (arrays run without a shell, objects in parallel). */
export function batchable(planned: PlannedHook): boolean {
  return planned.commands.every((c) => typeof c === 'string');
}

const DRIVER = ['tag=$1; shift', 'for c do', '  /bin/sh -c "$c"', '  r=$?', '  printf "\\n%s %s\\n" "$tag" "$r"', '  [ "$r" = 0 ] || exit "$r"', 'done'].join('\n');

interface Step {
  readonly planned: PlannedHook;
  readonly command: string;
  /** The hook's last command: the hook is done after it. */
  readonly last: boolean;
}

/** Runs the planned hooks' commands in order in one exec; markers go to `pending` as each hook finishes. */
export async function runBatch(ctx: ExecContext, batch: readonly PlannedHook[], pending: Promise<void>[]): Promise<void> {
  const steps: Step[] = batch.flatMap((planned) => planned.commands.map((c, i) => ({ planned, command: c as string, last: i === planned.commands.length - 1 })));
  const tag = `BERTH_HOOK_${randomBytes(12).toString('hex')}`;
  let index = 0;
  let output = '';
  let partial = '';
  let emptyLines = 0;
  const announce = (): void => {
    const step = steps[index];
    if (step) ctx.logger.info(`running ${step.planned.hook}: ${step.command}`);
  };
  const failure = (exitCode: number): BerthError => {
    const step = steps[index] as Step;
    return new BerthError('failed_precondition', `${step.planned.hook} failed with exit code ${exitCode}: ${step.command}\n${output.trim()}`, { details: { hook: step.planned.hook, exitCode } });
  };
  const line = (text: string): void => {
    const match = text.startsWith(`${tag} `) ? /^\S+ (-?\d+)$/.exec(text) : null;
    if (!match) {
      output = `${output}${text}\n`.slice(-8192);
      // Empty lines wait: the one right before a tag line is the driver's own.
      if (text === '') emptyLines++;
      else {
        for (; emptyLines > 0; emptyLines--) ctx.logger.info('');
        ctx.logger.info(text);
      }
      return;
    }
    for (; emptyLines > 1; emptyLines--) ctx.logger.info('');
    emptyLines = 0;
    const exitCode = Number(match[1]);
    if (exitCode !== 0) throw failure(exitCode);
    const step = steps[index] as Step;
    if (step.last) recordHook(ctx, step.planned, pending);
    index++;
    output = '';
    announce();
  };
  announce();
  let exitCode = -1;
  for await (const m of ctx.api.stream('containerExec', {
    params: { id: ctx.containerId },
    body: { cmd: ['/bin/sh', '-c', DRIVER, 'berth-hooks', tag, ...steps.map((s) => s.command)], user: ctx.user, workingDir: ctx.workingDir, env: [...ctx.env] },
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  })) {
    if ('exitCode' in m) exitCode = m.exitCode;
    else if (m.stream === 'stdout') {
      partial += m.text;
      for (let nl = partial.indexOf('\n'); nl >= 0; nl = partial.indexOf('\n')) {
        const text = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        line(text);
      }
    } else {
      output = (output + m.text).slice(-8192);
      ctx.logger.info(m.text.replace(/\n$/, ''));
    }
  }
  if (partial !== '') line(partial);
  // The driver ended before every command reported (killed, or no /bin/sh).
  if (index < steps.length) throw failure(exitCode === 0 ? -1 : exitCode);
}
