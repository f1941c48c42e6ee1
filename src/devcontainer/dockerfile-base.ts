/**
 * The base image of a Dockerfile's target stage, without building it: what
 * `read-configuration --include-merged-configuration` needs to read the
 * metadata a Dockerfile-based dev container starts from. Only ARG and FROM
 * lines matter here (the builder parses the whole file): global ARGs (build
 * args over their defaults) expand in FROM, and `FROM stage` follows the
 * chain to an image. "scratch" has no image (undefined).
 */
import { BerthError } from '../common/errors';
import { shellExpand, shellWords } from '../common/shell-words';

interface Line {
  readonly line: number;
  readonly keyword: string;
  readonly args: string;
}

/** Instructions with continuation lines joined; comments, blank lines and the escape directive handled. */
function instructions(text: string): { escape: string; lines: Line[] } {
  const raw = text.split(/\r?\n/);
  let escape = '\\';
  for (const l of raw) {
    const m = /^#\s*([a-z]+)\s*=\s*(\S+)\s*$/i.exec(l);
    if (!m) break;
    if (m[1]?.toLowerCase() === 'escape' && (m[2] === '`' || m[2] === '\\')) escape = m[2];
  }
  const lines: Line[] = [];
  let current: { line: number; text: string } | undefined;
  for (const [i, l] of raw.entries()) {
    if (/^\s*#/.test(l) || (current === undefined && l.trim() === '')) continue;
    const continued = l.trimEnd().endsWith(escape);
    const part = continued ? l.trimEnd().slice(0, -1) : l;
    current = current ? { line: current.line, text: `${current.text}${part}` } : { line: i + 1, text: part };
    if (continued) continue;
    const m = /^\s*(\S+)\s*(.*)$/s.exec(current.text);
    if (m) lines.push({ line: current.line, keyword: (m[1] ?? '').toUpperCase(), args: (m[2] ?? '').trim() });
    current = undefined;
  }
  return { escape, lines };
}

export function dockerfileBaseImage(text: string, options: { target?: string; buildArgs?: Readonly<Record<string, string>>; file?: string } = {}): string | undefined {
  const file = options.file ?? 'Dockerfile';
  const { escape, lines } = instructions(text);
  const vars = new Map<string, string>();
  const stages: { line: number; image: string; name?: string }[] = [];
  for (const ins of lines) {
    if (ins.keyword === 'ARG' && stages.length === 0) {
      for (const word of shellWords(ins.args, vars, escape)) {
        const eq = word.indexOf('=');
        const name = eq < 0 ? word : word.slice(0, eq);
        const value = options.buildArgs?.[name] ?? (eq < 0 ? undefined : word.slice(eq + 1));
        if (value !== undefined) vars.set(name, value);
      }
    } else if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      stages.push({ line: ins.line, image: words[0] ?? '', ...(words[1]?.toLowerCase() === 'as' && words[2] ? { name: words[2].toLowerCase() } : {}) });
    }
  }
  if (stages.length === 0) throw new BerthError('invalid_argument', `${file} has no FROM instruction`, { details: { file } });
  const target = options.target?.toLowerCase();
  let index = target === undefined ? stages.length - 1 : stages.findIndex((s) => s.name === target);
  if (index < 0) throw new BerthError('invalid_argument', `${file}: target stage "${options.target ?? ''}" could not be found`);
  for (;;) {
    const stage = stages[index];
    if (!stage) throw new BerthError('internal', `${file}: no stage ${index}`);
    const name = shellExpand(stage.image, vars, escape);
    if (name === '') throw new BerthError('invalid_argument', `${file}:${stage.line}: FROM names no image (an ARG without a value?)`);
    if (name.toLowerCase() === 'scratch') return undefined;
    const earlier = stages.findIndex((s, i) => i < index && s.name === name.toLowerCase());
    if (earlier < 0) return name;
    index = earlier;
  }
}
