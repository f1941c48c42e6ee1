/** Durations on the command line: "500ms", "90s", "30m", "12h", "7d" (a bare number is seconds). */
import { BerthError } from '../common/errors';

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new BerthError('invalid_argument', `${what}: expected a duration like 90s, 30m, 12h or 7d (got "${text}")`);
  return Math.round(Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1000));
}
