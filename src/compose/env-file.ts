/**
 * `.env` and `env_file` files as Compose reads them: `KEY=VALUE` lines,
 * `export ` prefixes, `#` comments, single quotes (literal), double quotes
 * (with \n, \t, \\ and \" escapes), and unquoted values cut at " #".
 */
import { readFile } from 'node:fs/promises';
import { BerthError } from '../common/errors';

function findClose(text: string, q: string): number {
  for (let i = 0; i < text.length; i++) {
    if (q === '"' && text[i] === '\\') i++;
    else if (text[i] === q) return i;
  }
  return -1;
}

export function parseEnvFile(text: string, file = '.env'): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    const body = line.startsWith('export ') ? line.slice(7).trimStart() : line;
    const eq = body.indexOf('=');
    const key = (eq < 0 ? body : body.slice(0, eq)).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) throw new BerthError('invalid_argument', `${file}:${n + 1}: invalid variable name "${key}"`);
    if (eq < 0) continue;
    let value = body.slice(eq + 1).trimStart();
    const q = value[0];
    if (q === '"' || q === "'") {
      // A quoted value may span lines; in double quotes a backslash escapes the next character.
      let rest = value.slice(1);
      let close = findClose(rest, q);
      while (close < 0 && n + 1 < lines.length) {
        rest += `\n${lines[++n] as string}`;
        close = findClose(rest, q);
      }
      if (close < 0) throw new BerthError('invalid_argument', `${file}:${n + 1}: unterminated quote in ${key}`);
      value = rest.slice(0, close);
      if (q === '"') value = value.replace(/\\([nrt"\\$])/g, (_m, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);
    } else {
      const hash = value.search(/\s#/);
      value = (hash >= 0 ? value.slice(0, hash) : value).trimEnd();
    }
    out[key] = value;
  }
  return out;
}

/** Reads and parses an env file; a missing one is an error unless `optional`. */
export async function readEnvFile(file: string, options: { optional?: boolean; signal?: AbortSignal } = {}): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, { encoding: 'utf8', ...(options.signal ? { signal: options.signal } : {}) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      if (options.optional) return {};
      throw new BerthError('not_found', `env file ${file} not found`, { cause: err });
    }
    throw err;
  }
  return parseEnvFile(text, file);
}
