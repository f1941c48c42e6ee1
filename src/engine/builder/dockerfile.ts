/**
 * Reads a Dockerfile into stages of typed instructions. The syntax (line
 * continuations, comments, the escape directive, flags) is dockerfile-ast's;
 * the JSON (exec) form is decoded here with JSON.parse, as Docker does
 * (dockerfile-ast's JSON strings lose spaces after escaped quotes).
 */
import { DockerfileParser, type Instruction as AstInstruction } from 'dockerfile-ast';
import { BerthError } from '../../common/errors';

export interface Instruction {
  /** Upper case: RUN, COPY, ... */
  readonly keyword: string;
  /** 1-based line of the keyword. */
  readonly line: number;
  /** The arguments after the flags, continuation lines joined. */
  readonly args: string;
  /** `--name=value` flags (value "" for `--name`). */
  readonly flags: ReadonlyMap<string, string>;
  /** The exec (JSON array) form, when the arguments are one. */
  readonly json?: readonly string[];
  /** "KEYWORD args" as written (flags included), for history and messages. */
  readonly text: string;
}

export interface Stage {
  readonly index: number;
  /** `AS name`, lower-cased. */
  readonly name?: string;
  readonly from: Instruction;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  readonly escape: string;
  /** ARG instructions before the first FROM. */
  readonly globalArgs: readonly Instruction[];
  readonly stages: readonly Stage[];
}

/** The exec form: a JSON array of strings, else undefined (shell form). */
export function execForm(args: string): string[] | undefined {
  const t = args.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
  } catch {
    return undefined;
  }
}

function convert(i: AstInstruction): Instruction {
  const keyword = i.getKeyword().toUpperCase();
  const line = i.getRange().start.line + 1;
  const withFlags = i as AstInstruction & { getFlags?: () => { getName(): string; getValue(): string | null }[] };
  const flags = new Map<string, string>();
  for (const f of withFlags.getFlags?.() ?? []) flags.set(f.getName().toLowerCase(), f.getValue() ?? '');
  const args = (i.getArgumentsContent() ?? '').trim();
  const json = execForm(args);
  const flagText = [...flags].map(([k, v]) => `--${k}${v === '' ? '' : `=${v}`} `).join('');
  return { keyword, line, args, flags, ...(json ? { json } : {}), text: `${keyword} ${flagText}${args}`.trim() };
}

export function parseDockerfile(text: string, file = 'Dockerfile'): Dockerfile {
  const ast = DockerfileParser.parse(text);
  const globalArgs: Instruction[] = [];
  const stages: { index: number; name?: string; from: Instruction; instructions: Instruction[] }[] = [];
  for (const raw of ast.getInstructions()) {
    const ins = convert(raw);
    if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/).filter(Boolean);
      if (words.length !== 1 && !(words.length === 3 && words[1]?.toLowerCase() === 'as')) {
        throw new BerthError('invalid_argument', `${file}:${ins.line}: FROM needs an image and optionally "AS name": ${ins.text}`, { details: { file, line: ins.line } });
      }
      const name = words[2]?.toLowerCase();
      if (name !== undefined && !/^[a-z][a-z0-9._-]*$/.test(name)) {
        throw new BerthError('invalid_argument', `${file}:${ins.line}: invalid stage name "${name}"`, { details: { file, line: ins.line } });
      }
      if (name !== undefined && stages.some((s) => s.name === name)) {
        throw new BerthError('invalid_argument', `${file}:${ins.line}: duplicate stage name "${name}"`, { details: { file, line: ins.line } });
      }
      stages.push({ index: stages.length, ...(name ? { name } : {}), from: ins, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage) stage.instructions.push(ins);
    else if (ins.keyword === 'ARG') globalArgs.push(ins);
    else throw new BerthError('invalid_argument', `${file}:${ins.line}: ${ins.keyword} before the first FROM (only ARG may come first)`, { details: { file, line: ins.line } });
  }
  if (stages.length === 0) throw new BerthError('invalid_argument', `${file} has no FROM instruction`, { details: { file } });
  return { escape: ast.getEscapeCharacter(), globalArgs, stages };
}
