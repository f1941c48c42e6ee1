/**
 * Parses devcontainer.json text (JSONC: comments and trailing commas) into a
 * validated, frozen configuration. Every problem carries the file,
 * line:column and JSON path.
 */
import { findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode, stripComments, type Node, type ParseError } from 'jsonc-parser';
import { BerthError } from '../common/errors';
import type { DevContainerConfig } from './types';
import type { Issue, JsonPath } from '../common/schema';
import { validateConfigValue } from './validate';

export interface ConfigDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly message: string;
  /** Dotted JSON path, e.g. `build.args.VERSION` or `forwardPorts[1]`; empty for the document. */
  readonly path: string;
  readonly line: number;
  readonly column: number;
  readonly file: string;
}

export interface ParsedConfig {
  readonly config: DevContainerConfig;
  /** The document's value exactly as written (frozen). */
  readonly raw: Readonly<Record<string, unknown>>;
  /** Warnings (errors throw). */
  readonly diagnostics: readonly ConfigDiagnostic[];
}

export function formatJsonPath(path: JsonPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export function formatDiagnostic(d: ConfigDiagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.path ? `${d.path}: ` : ''}${d.message}`;
}

/** Maps offsets to 1-based line:column. */
class Positions {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }
  at(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (this.starts[lo] ?? 0) + 1 };
  }
}

function offsetOf(tree: Node | undefined, issue: Issue): number {
  if (!tree) return 0;
  // Walk up the path until a node exists (a missing property points at its parent).
  for (let n = issue.path.length; n >= 0; n--) {
    const node = findNodeAtLocation(tree, [...issue.path.slice(0, n)]);
    if (!node) continue;
    if (n === issue.path.length && issue.atKey && node.parent?.type === 'property') return node.parent.offset;
    return node.offset;
  }
  return tree.offset;
}

function describeParseError(e: ParseError): string {
  const code = printParseErrorCode(e.error);
  const words: Record<string, string> = {
    CommaExpected: 'expected a comma',
    ColonExpected: 'expected a colon',
    PropertyNameExpected: 'expected a property name',
    ValueExpected: 'expected a value',
    CloseBraceExpected: 'expected "}"',
    CloseBracketExpected: 'expected "]"',
    EndOfFileExpected: 'unexpected content after the end of the document',
    UnexpectedEndOfString: 'unterminated string',
    UnexpectedEndOfComment: 'unterminated comment',
    InvalidSymbol: 'invalid symbol',
    InvalidNumberFormat: 'invalid number',
    InvalidUnicode: 'invalid unicode escape',
    InvalidEscapeCharacter: 'invalid escape character',
    InvalidCharacter: 'invalid character',
  };
  return `malformed JSON: ${words[code] ?? code}`;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/** Problems in a document, errors and warnings, without throwing (for editors). */
export function diagnoseConfigText(text: string, file: string): { value: unknown; diagnostics: ConfigDiagnostic[] } {
  // A byte order mark is not content (editors save one; the reference CLI accepts it).
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (stripComments(text).trim() === '') {
    return { value: undefined, diagnostics: [{ severity: 'error', message: 'the file is empty', path: '', file, line: 1, column: 1 }] };
  }
  const positions = new Positions(text);
  const parseErrors: ParseError[] = [];
  const tree = parseTree(text, parseErrors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false });
  const diagnostics: ConfigDiagnostic[] = parseErrors.map((e) => ({
    severity: 'error',
    message: describeParseError(e),
    path: '',
    file,
    ...positions.at(e.offset),
  }));
  if (diagnostics.length > 0 || !tree) return { value: undefined, diagnostics };
  const value: unknown = getNodeValue(tree);
  for (const issue of validateConfigValue(value)) {
    diagnostics.push({
      severity: issue.severity,
      message: issue.message,
      path: formatJsonPath(issue.path),
      file,
      ...positions.at(offsetOf(tree, issue)),
    });
  }
  diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
  return { value, diagnostics };
}

/**
 * Parses and validates; throws BerthError('invalid_argument') listing every
 * error (details.diagnostics), returns warnings otherwise.
 */
export function parseConfigText(text: string, file: string): ParsedConfig {
  const { value, diagnostics } = diagnoseConfigText(text, file);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const first = errors[0];
  if (first) {
    const shown = errors.slice(0, 10).map(formatDiagnostic);
    if (errors.length > shown.length) shown.push(`... and ${errors.length - shown.length} more`);
    throw new BerthError('invalid_argument', shown.join('\n'), {
      details: { file, line: first.line, column: first.column, path: first.path, diagnostics: errors },
    });
  }
  const raw = deepFreeze(value as Record<string, unknown>);
  return { config: raw, raw, diagnostics: diagnostics.filter((d) => d.severity === 'warning') };
}
