/**
 * The instructions that change only the image config: ENV, LABEL, USER,
 * EXPOSE, VOLUME, ENTRYPOINT, CMD, SHELL, STOPSIGNAL, HEALTHCHECK, ONBUILD,
 * MAINTAINER, and WORKDIR's config part. Each returns the new runtime config.
 */
import type { ImageRuntimeConfig } from '../../api/types/oci';
import { BerthError } from '../../common/errors';
import type { Instruction } from './dockerfile';
import { shellExpand, shellWords, type Vars } from './shell-words';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** Docker's key=value pairs (ENV, LABEL, ARG); the legacy `ENV key value` form too. */
export function keyValues(ins: Instruction, vars: Vars, escape: string, legacy: boolean): [string, string][] {
  const words = shellWords(ins.args, vars, escape);
  if (words.length === 0) throw new BerthError('invalid_argument', `${ins.keyword} needs at least one argument`);
  if (legacy && !(words[0] ?? '').includes('=')) {
    const key = words[0] ?? '';
    const rest = ins.args.slice(ins.args.indexOf(' ') + 1).trim();
    return [[key, shellExpand(rest, vars, escape)]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new BerthError('invalid_argument', `${ins.keyword} names must be followed by "=value": ${w}`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

export function setEnv(env: readonly string[], key: string, value: string): string[] {
  const out = env.filter((kv) => kv.split('=')[0] !== key);
  out.push(`${key}=${value}`);
  return out;
}

/**
 * The shell or exec form as an argv. A RUN that is only a here-document
 * runs the document as the script; one with a command before it gives the
 * whole text to the shell, which feeds the document to that command.
 */
export function commandOf(ins: Instruction, config: ImageRuntimeConfig): string[] {
  if (ins.json) return [...ins.json];
  const shell = config.Shell ?? DEFAULT_SHELL;
  const first = ins.heredocs?.[0];
  if (first && /^<<-?(["']?)[^\s]+\1$/.test((ins.args.split('\n')[0] ?? '').trim())) return [...shell, first.content];
  return [...shell, ins.args];
}

const UNIT: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

function durationNs(text: string, flag: string): number {
  let total = 0;
  let rest = text;
  while (rest !== '') {
    const m = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/.exec(rest);
    if (!m) throw new BerthError('invalid_argument', `HEALTHCHECK --${flag}: invalid duration "${text}"`);
    total += Number(m[1]) * (UNIT[m[2] ?? 's'] ?? 1);
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}

export interface ConfigContext {
  readonly vars: Vars;
  readonly escape: string;
  /** CMD was set in this stage (ENTRYPOINT then keeps it). */
  readonly cmdSet: boolean;
}

export function applyConfig(ins: Instruction, config: ImageRuntimeConfig, ctx: ConfigContext): ImageRuntimeConfig {
  const { vars, escape } = ctx;
  const one = (): string => shellExpand(ins.args, vars, escape).trim();
  switch (ins.keyword) {
    case 'ENV': {
      let env = [...(config.Env ?? [])];
      for (const [k, v] of keyValues(ins, vars, escape, true)) env = setEnv(env, k, v);
      return { ...config, Env: env };
    }
    case 'LABEL': {
      const labels = { ...(config.Labels ?? {}) };
      for (const [k, v] of keyValues(ins, vars, escape, false)) labels[k] = v;
      return { ...config, Labels: labels };
    }
    case 'USER':
      return { ...config, User: one() };
    case 'WORKDIR': {
      const dir = one();
      const abs = dir.startsWith('/') ? dir : `${config.WorkingDir || '/'}/${dir}`;
      return { ...config, WorkingDir: abs.replace(/\/+/g, '/').replace(/(.)\/$/, '$1') };
    }
    case 'EXPOSE': {
      const ports = { ...(config.ExposedPorts ?? {}) };
      for (const p of shellWords(ins.args, vars, escape)) ports[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
      return { ...config, ExposedPorts: ports };
    }
    case 'VOLUME': {
      const volumes = { ...(config.Volumes ?? {}) };
      for (const v of ins.json ?? shellWords(ins.args, vars, escape)) {
        if (v.trim() === '') throw new BerthError('invalid_argument', 'VOLUME specified can not be an empty string');
        volumes[v] = {};
      }
      return { ...config, Volumes: volumes };
    }
    case 'STOPSIGNAL':
      return { ...config, StopSignal: one() };
    case 'CMD':
      return { ...config, Cmd: commandOf(ins, config) };
    case 'ENTRYPOINT':
      return { ...config, Entrypoint: commandOf(ins, config), ...(ctx.cmdSet ? {} : { Cmd: null }) };
    case 'SHELL':
      if (!ins.json || ins.json.length === 0) throw new BerthError('invalid_argument', 'SHELL requires the arguments to be in JSON form');
      return { ...config, Shell: [...ins.json] };
    case 'ONBUILD': {
      const trigger = ins.args.trim();
      const kw = (trigger.split(/\s+/)[0] ?? '').toUpperCase();
      if (kw === 'ONBUILD' || kw === 'FROM' || kw === 'MAINTAINER') throw new BerthError('invalid_argument', `${kw} isn't allowed as an ONBUILD trigger`);
      return { ...config, OnBuild: [...(config.OnBuild ?? []), trigger] };
    }
    case 'HEALTHCHECK': {
      const words = ins.args.trim().split(/\s+/);
      const kind = (words[0] ?? '').toUpperCase();
      if (kind === 'NONE') return { ...config, Healthcheck: { Test: ['NONE'] } };
      if (kind !== 'CMD') throw new BerthError('invalid_argument', 'HEALTHCHECK needs CMD or NONE');
      const rest = ins.args.trim().slice(3).trim();
      const json = ins.json ?? undefined;
      const test = json ?? (rest.startsWith('[') ? (JSON.parse(rest) as string[]) : undefined);
      const flag = (name: string): number | undefined => {
        const v = ins.flags.get(name);
        return v === undefined ? undefined : durationNs(v, name);
      };
      const retries = ins.flags.get('retries');
      const hc = {
        Test: test ? ['CMD', ...test] : ['CMD-SHELL', rest],
        ...(flag('interval') !== undefined ? { Interval: flag('interval') } : {}),
        ...(flag('timeout') !== undefined ? { Timeout: flag('timeout') } : {}),
        ...(flag('start-period') !== undefined ? { StartPeriod: flag('start-period') } : {}),
        ...(flag('start-interval') !== undefined ? { StartInterval: flag('start-interval') } : {}),
        ...(retries !== undefined ? { Retries: Number(retries) } : {}),
      };
      return { ...config, Healthcheck: hc };
    }
    default:
      throw new BerthError('invalid_argument', `unknown instruction: ${ins.keyword}`);
  }
}
