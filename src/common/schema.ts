/**
 * A tiny schema language for validating parsed JSON values. Each schema
 * reports issues with the JSON path of the offending value and what was
 * expected; parse.ts turns paths into file positions.
 */
export type JsonPath = readonly (string | number)[];
export type JsonType = 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object';

export interface Issue {
  readonly severity: 'error' | 'warning';
  readonly path: JsonPath;
  readonly message: string;
  /** Point at the property name rather than its value. */
  readonly atKey?: boolean;
}

export interface Schema {
  /** What a valid value looks like, for messages: "a string", "an array of strings". */
  readonly expected: string;
  /** The JSON types this schema can accept. */
  readonly types: readonly JsonType[];
  /** Appends issues for `value` at `path`; returns false if any error was added. */
  check(value: unknown, path: JsonPath, out: Issue[]): boolean;
  /** The same rules as a JSON Schema (draft 7), for editors' completions; absent: anything. */
  readonly json?: JsonSchema;
}

export type JsonSchema = Readonly<Record<string, unknown>>;

export function jsonType(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const t = typeof value;
  if (t === 'string' || t === 'number' || t === 'boolean') return t;
  return 'object';
}

function describe(value: unknown): string {
  const t = jsonType(value);
  if (t === 'string') return `the string ${JSON.stringify(value)}`;
  if (t === 'number' || t === 'boolean') return `${t} ${String(value)}`;
  return t === 'null' ? 'null' : `an ${t}`;
}

function typeError(schema: Schema, value: unknown, path: JsonPath, out: Issue[]): false {
  out.push({ severity: 'error', path, message: `expected ${schema.expected}, got ${describe(value)}` });
  return false;
}

export function str(options: { pattern?: RegExp; patternText?: string; nonEmpty?: boolean } = {}): Schema {
  const schema: Schema = {
    expected: options.patternText ?? (options.nonEmpty ? 'a non-empty string' : 'a string'),
    types: ['string'],
    json: { type: 'string', ...(options.pattern && !options.pattern.flags ? { pattern: options.pattern.source } : {}), ...(options.nonEmpty ? { minLength: 1 } : {}) },
    check(value, path, out) {
      if (typeof value !== 'string') return typeError(schema, value, path, out);
      if (options.nonEmpty && value.trim() === '') return typeError(schema, value, path, out);
      if (options.pattern && !options.pattern.test(value)) return typeError(schema, value, path, out);
      return true;
    },
  };
  return schema;
}

export function oneOfStrings<T extends string>(values: readonly T[]): Schema {
  const schema: Schema = {
    expected: `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`,
    types: ['string'],
    json: { type: 'string', enum: values },
    check(value, path, out) {
      if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) return typeError(schema, value, path, out);
      return true;
    },
  };
  return schema;
}

export function bool(): Schema {
  const schema: Schema = {
    expected: 'true or false',
    types: ['boolean'],
    json: { type: 'boolean' },
    check: (value, path, out) => typeof value === 'boolean' || typeError(schema, value, path, out),
  };
  return schema;
}

export function int(options: { min?: number; max?: number } = {}): Schema {
  const { min, max } = options;
  const range = min !== undefined && max !== undefined ? ` from ${min} to ${max}` : min !== undefined ? ` >= ${min}` : '';
  const schema: Schema = {
    expected: `an integer${range}`,
    types: ['number'],
    json: { type: 'integer', ...(min !== undefined ? { minimum: min } : {}), ...(max !== undefined ? { maximum: max } : {}) },
    check(value, path, out) {
      if (typeof value !== 'number' || !Number.isInteger(value)) return typeError(schema, value, path, out);
      if ((min !== undefined && value < min) || (max !== undefined && value > max)) return typeError(schema, value, path, out);
      return true;
    },
  };
  return schema;
}

export function num(): Schema {
  const schema: Schema = {
    expected: 'a number',
    types: ['number'],
    json: { type: 'number' },
    check: (value, path, out) => (typeof value === 'number' && Number.isFinite(value)) || typeError(schema, value, path, out),
  };
  return schema;
}

export function nul(): Schema {
  const schema: Schema = { expected: 'null', types: ['null'], json: { type: 'null' }, check: (v, p, o) => v === null || typeError(schema, v, p, o) };
  return schema;
}

/** Any JSON value. */
export function any(): Schema {
  return { expected: 'any value', types: ['string', 'number', 'boolean', 'null', 'array', 'object'], json: {}, check: () => true };
}

export function arrayOf(item: Schema): Schema {
  const schema: Schema = {
    expected: `an array of ${plural(item.expected)}`,
    types: ['array'],
    json: { type: 'array', items: item.json ?? {} },
    check(value, path, out) {
      if (!Array.isArray(value)) return typeError(schema, value, path, out);
      let ok = true;
      value.forEach((v, i) => {
        ok = item.check(v, [...path, i], out) && ok;
      });
      return ok;
    },
  };
  return schema;
}

function plural(expected: string): string {
  return expected.replace(/^an? (\w+)/, (_m, w: string) => (w.endsWith('s') ? w : `${w}s`));
}

/** An object whose keys are free (optionally checked) and whose values share one schema. */
export function recordOf(value: Schema, options: { key?: (key: string) => string | undefined } = {}): Schema {
  const schema: Schema = {
    expected: `an object of ${plural(value.expected)}`,
    types: ['object'],
    json: { type: 'object', additionalProperties: value.json ?? {} },
    check(v, path, out) {
      if (jsonType(v) !== 'object') return typeError(schema, v, path, out);
      let ok = true;
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
        const keyProblem = options.key?.(k);
        if (keyProblem) {
          out.push({ severity: 'error', path: [...path, k], message: keyProblem, atKey: true });
          ok = false;
        }
        ok = value.check(item, [...path, k], out) && ok;
      }
      return ok;
    },
  };
  return schema;
}

export interface ObjectOptions {
  /** What to do with properties not listed: warn (default), allow silently, or fail. */
  readonly unknown?: 'warning' | 'allow' | 'error';
  readonly required?: readonly string[];
  readonly deprecated?: { readonly [key: string]: string };
  readonly expected?: string;
}

export function objectOf(props: { readonly [key: string]: Schema }, options: ObjectOptions = {}): Schema {
  const schema: Schema = {
    expected: options.expected ?? 'an object',
    types: ['object'],
    json: {
      type: 'object',
      properties: Object.fromEntries(
        Object.entries(props).map(([k, v]) => [k, { ...(v.json ?? {}), ...(options.deprecated?.[k] ? { deprecationMessage: options.deprecated[k] } : {}) }]),
      ),
      ...(options.required?.length ? { required: options.required } : {}),
      ...(options.unknown === 'error' ? { additionalProperties: false } : {}),
    },
    check(value, path, out) {
      if (jsonType(value) !== 'object') return typeError(schema, value, path, out);
      const obj = value as Record<string, unknown>;
      let ok = true;
      for (const key of options.required ?? []) {
        if (!(key in obj)) {
          out.push({ severity: 'error', path: [...path, key], message: `missing required property "${key}"` });
          ok = false;
        }
      }
      for (const [key, item] of Object.entries(obj)) {
        const prop = Object.prototype.hasOwnProperty.call(props, key) ? props[key] : undefined;
        if (prop) {
          ok = prop.check(item, [...path, key], out) && ok;
          const note = options.deprecated?.[key];
          if (note) out.push({ severity: 'warning', path: [...path, key], message: `"${key}" is deprecated: ${note}`, atKey: true });
        } else if (options.unknown !== 'allow') {
          const severity = options.unknown === 'error' ? 'error' : 'warning';
          out.push({ severity, path: [...path, key], message: `unknown property "${key}"`, atKey: true });
          if (severity === 'error') ok = false;
        }
      }
      return ok;
    },
  };
  return schema;
}

/** The value must match one of the schemas; errors come from the member of the value's type. */
export function union(...members: Schema[]): Schema {
  const schema: Schema = {
    expected: members.map((m) => m.expected).join(' or '),
    types: [...new Set(members.flatMap((m) => m.types))],
    json: { anyOf: members.map((m) => m.json ?? {}) },
    check(value, path, out) {
      const t = jsonType(value);
      const candidates = members.filter((m) => m.types.includes(t) || (t === 'number' && m.types.includes('number')));
      if (candidates.length === 0) return typeError(schema, value, path, out);
      let firstIssues: Issue[] | undefined;
      for (const member of candidates) {
        const issues: Issue[] = [];
        if (member.check(value, path, issues)) {
          out.push(...issues);
          return true;
        }
        firstIssues ??= issues;
      }
      // Errors deeper inside the one candidate are more useful than "expected A or B".
      if (candidates.length === 1 && firstIssues?.some((i) => i.path.length > path.length)) {
        out.push(...firstIssues);
        return false;
      }
      return typeError(schema, value, path, out);
    },
  };
  return schema;
}
