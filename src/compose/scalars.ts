/** Compose's scalar syntaxes: durations ("1m30s"), byte sizes ("64m"), and shell-like command strings. */
import { BerthError } from '../common/errors';

const UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "1m30s", "500ms", "10" (seconds) to milliseconds. */
export function durationMs(v: unknown, where: string): number {
  if (typeof v === 'number') return v * 1000;
  const text = String(v).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  let total = 0;
  let rest = text;
  while (rest !== '') {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) throw new BerthError('invalid_argument', `${where}: invalid duration "${text}"`);
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** "64m", "1g", "1024" to bytes. */
export function byteSize(v: unknown, where: string): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)b?$/i.exec(String(v).trim());
  if (!m) throw new BerthError('invalid_argument', `${where}: invalid size "${String(v)}"`);
  const pow = ' kmgt'.indexOf((m[2] || ' ').toLowerCase());
  return Math.round(Number(m[1]) * 1024 ** pow);
}

/** Splits a command string as a POSIX shell would split words (quotes and backslashes; no expansion). */
export function shellWords(text: string, where: string): string[] {
  const out: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      if (word !== undefined) out.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new BerthError('invalid_argument', `${where}: unterminated quote in "${text}"`);
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      word ??= '';
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\' && /["\\$`]/.test(text[i + 1] ?? '')) i++;
        word += text[i] as string;
      }
      if (i >= text.length) throw new BerthError('invalid_argument', `${where}: unterminated quote in "${text}"`);
    } else if (c === '\\' && i + 1 < text.length) {
      word = (word ?? '') + (text[++i] as string);
    } else word = (word ?? '') + c;
  }
  if (word !== undefined) out.push(word);
  return out;
}

/** A YAML scalar as text (numbers and booleans as written; a mapping or list as JSON). */
export function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null || v === undefined) return '';
  return JSON.stringify(v);
}
