/**
 * Compose's variable interpolation in string values: `$VAR`, `${VAR}`,
 * `${VAR:-default}` / `${VAR-default}` (unset or empty / unset),
 * `${VAR:+alt}` / `${VAR+alt}`, `${VAR:?error}` / `${VAR?error}`, and `$$`
 * for a literal `$`. Defaults may hold further variables.
 */
import { BerthError } from '../common/errors';

export type Lookup = (name: string) => string | undefined;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** The index of the `}` that closes the `${` whose body starts at `from`. */
function closing(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '$') i++;
    else if (text[i] === '$' && text[i + 1] === '{') {
      depth++;
      i++;
    } else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function braced(body: string, lookup: Lookup, where: string): string {
  const m = NAME.exec(body);
  if (!m) throw new BerthError('invalid_argument', `${where}: invalid interpolation "\${${body}}"`);
  const name = m[0];
  const rest = body.slice(name.length);
  const value = lookup(name);
  if (rest === '') return value ?? '';
  const op = /^(:?[-+?])/.exec(rest)?.[1];
  if (!op) throw new BerthError('invalid_argument', `${where}: invalid interpolation "\${${body}}"`);
  const arg = (): string => interpolate(rest.slice(op.length), lookup, where);
  const set = op.startsWith(':') ? value !== undefined && value !== '' : value !== undefined;
  switch (op.replace(':', '')) {
    case '-':
      return set ? (value as string) : arg();
    case '+':
      return set ? arg() : '';
    default:
      if (!set) throw new BerthError('invalid_argument', `${where}: required variable ${name} is missing a value${rest.length > op.length ? `: ${arg()}` : ''}`);
      return value as string;
  }
}

/** Interpolates one string; `where` names it in errors. */
export function interpolate(text: string, lookup: Lookup, where = 'compose file'): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c !== '$') {
      out += c;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '{') {
      const end = closing(text, i + 2);
      if (end < 0) throw new BerthError('invalid_argument', `${where}: unterminated "\${" in "${text}"`);
      out += braced(text.slice(i + 2, end), lookup, where);
      i = end;
    } else {
      const m = NAME.exec(text.slice(i + 1));
      if (!m) out += '$';
      else {
        out += lookup(m[0]) ?? '';
        i += m[0].length;
      }
    }
  }
  return out;
}

/** Interpolates every string value (not the keys) of a parsed YAML tree. */
export function interpolateTree(value: unknown, lookup: Lookup, where: string): unknown {
  if (typeof value === 'string') return interpolate(value, lookup, where);
  if (Array.isArray(value)) return value.map((v, i) => interpolateTree(v, lookup, `${where}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, interpolateTree(v, lookup, `${where}.${k}`)]));
  }
  return value;
}
