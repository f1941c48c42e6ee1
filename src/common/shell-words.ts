/**
 * Docker's word processing for Dockerfile instructions (moby's shell lexer):
 * quotes are removed, `$VAR`, `${VAR}` and `${VAR:-word}`-style forms are
 * expanded from the build environment, the escape character (`\` or the
 * `# escape=` directive's) protects the next character. Single quotes keep
 * everything literal; double quotes expand variables.
 */
import { BerthError } from './errors';

export type Vars = ReadonlyMap<string, string>;

class Lexer {
  private i = 0;
  constructor(
    private readonly text: string,
    private readonly vars: Vars,
    private readonly escape: string,
  ) {}

  private peek(): string {
    return this.text[this.i] ?? '';
  }

  private next(): string {
    return this.text[this.i++] ?? '';
  }

  private done(): boolean {
    return this.i >= this.text.length;
  }

  /** All words (split at unquoted whitespace). */
  words(): string[] {
    const out: string[] = [];
    for (;;) {
      while (!this.done() && /\s/.test(this.peek())) this.i++;
      if (this.done()) return out;
      out.push(this.word(true));
    }
  }

  /** One word, reading to the end (whitespace kept) or to unquoted whitespace. */
  word(stopAtSpace: boolean): string {
    let out = '';
    while (!this.done()) {
      const c = this.peek();
      if (stopAtSpace && /\s/.test(c)) break;
      this.i++;
      if (c === this.escape) {
        if (this.done()) out += c;
        else out += this.next();
      } else if (c === "'") {
        const end = this.text.indexOf("'", this.i);
        if (end < 0) throw new BerthError('invalid_argument', `unexpected end of text: no closing quote in ${this.text}`);
        out += this.text.slice(this.i, end);
        this.i = end + 1;
      } else if (c === '"') {
        out += this.doubleQuoted();
      } else if (c === '$') {
        out += this.variable();
      } else out += c;
    }
    return out;
  }

  private doubleQuoted(): string {
    let out = '';
    for (;;) {
      if (this.done()) throw new BerthError('invalid_argument', `unexpected end of text: no closing quote in ${this.text}`);
      const c = this.next();
      if (c === '"') return out;
      if (c === this.escape) {
        const n = this.peek();
        if (n === '"' || n === '$' || n === this.escape) out += this.next();
        else out += c;
      } else if (c === '$') out += this.variable();
      else out += c;
    }
  }

  private name(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_]*|^[0-9*#@$?!-]/.exec(this.text.slice(this.i));
    if (!m) return '';
    this.i += m[0].length;
    return m[0];
  }

  private variable(): string {
    if (this.peek() !== '{') {
      const name = this.name();
      return name === '' ? '$' : (this.vars.get(name) ?? '');
    }
    this.i++;
    const name = this.name();
    if (name === '') throw new BerthError('invalid_argument', `bad substitution in ${this.text}`);
    const value = this.vars.get(name);
    if (this.peek() === '}') {
      this.i++;
      return value ?? '';
    }
    let op = this.next();
    if (op === ':') op += this.next();
    const word = this.until('}');
    const set = op.startsWith(':') ? value !== undefined && value !== '' : value !== undefined;
    switch (op.replace(':', '')) {
      case '-':
        return set ? (value ?? '') : word;
      case '+':
        return set ? word : '';
      case '?':
        if (!set) throw new BerthError('invalid_argument', `${name}: ${word || 'is not set'}`);
        return value ?? '';
      default:
        throw new BerthError('invalid_argument', `unsupported modifier (${op}) in substitution: ${this.text}`);
    }
  }

  /** The processed text up to the closing `end` (nested expansions allowed). */
  private until(end: string): string {
    let out = '';
    for (;;) {
      if (this.done()) throw new BerthError('invalid_argument', `missing '${end}' in ${this.text}`);
      const c = this.next();
      if (c === end) return out;
      if (c === this.escape && !this.done()) out += this.next();
      else if (c === '$') out += this.variable();
      else if (c === '"') out += this.doubleQuoted();
      else if (c === "'") {
        const close = this.text.indexOf("'", this.i);
        if (close < 0) throw new BerthError('invalid_argument', `unexpected end of text: no closing quote in ${this.text}`);
        out += this.text.slice(this.i, close);
        this.i = close + 1;
      } else out += c;
    }
  }
}

/** The words of `text`, quotes removed and variables expanded. */
export function shellWords(text: string, vars: Vars, escape = '\\'): string[] {
  return new Lexer(text, vars, escape).words();
}

/** `text` as one word (whitespace kept), quotes removed and variables expanded. */
export function shellExpand(text: string, vars: Vars, escape = '\\'): string {
  return new Lexer(text, vars, escape).word(false);
}
