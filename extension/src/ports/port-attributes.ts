/**
 * Which attributes apply to a port: `portsAttributes` keys are a port
 * ("3000"), a range ("3000-3010") or a regular expression; the agent
 * reports no process command lines, so a regular expression is matched
 * against the port's number as text. Unmatched ports get
 * `otherPortsAttributes`. Also parses `forwardPorts` entries (a port or
 * "host:port"). Pure, unit-tested.
 */
export type OnAutoForward = 'notify' | 'openBrowser' | 'openBrowserOnce' | 'openPreview' | 'silent' | 'ignore';

export interface PortAttributes {
  readonly label?: string;
  readonly onAutoForward?: OnAutoForward;
  readonly protocol?: 'http' | 'https';
  readonly requireLocalPort?: boolean;
}

export interface ForwardTarget {
  /** Where the agent connects, from inside the container. */
  readonly host: string;
  readonly port: number;
}

function keyMatches(key: string, port: number): boolean {
  const k = key.trim();
  if (/^\d+$/.test(k)) return Number(k) === port;
  const range = /^(\d+)-(\d+)$/.exec(k);
  if (range) return port >= Number(range[1]) && port <= Number(range[2]);
  try {
    return new RegExp(k).test(String(port));
  } catch {
    return false;
  }
}

function asAttributes(v: unknown): PortAttributes {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v) : {};
}

export function attributesFor(port: number, portsAttributes: unknown, otherPortsAttributes: unknown): PortAttributes {
  if (typeof portsAttributes === 'object' && portsAttributes !== null) {
    // Exact ports win over ranges, ranges over expressions.
    const entries = Object.entries(portsAttributes as Record<string, unknown>);
    const rank = (k: string): number => (/^\d+$/.test(k.trim()) ? 0 : /^\d+-\d+$/.test(k.trim()) ? 1 : 2);
    const match = entries.filter(([k]) => keyMatches(k, port)).sort(([a], [b]) => rank(a) - rank(b))[0];
    if (match) return asAttributes(match[1]);
  }
  return asAttributes(otherPortsAttributes);
}

/** `forwardPorts`: 3000 or "db:5432"; invalid entries are dropped (the validator reports them). */
export function forwardTargets(forwardPorts: unknown): ForwardTarget[] {
  if (!Array.isArray(forwardPorts)) return [];
  const out: ForwardTarget[] = [];
  for (const entry of forwardPorts) {
    if (typeof entry === 'number' && Number.isInteger(entry) && entry > 0 && entry < 65536) out.push({ host: '127.0.0.1', port: entry });
    else if (typeof entry === 'string') {
      const m = /^(.+):(\d+)$/.exec(entry) ?? /^()(\d+)$/.exec(entry);
      const port = Number(m?.[2]);
      if (m && port > 0 && port < 65536) out.push({ host: m[1] || '127.0.0.1', port });
    }
  }
  return out;
}

/** What auto-forwarding does with a port the agent saw open. */
export function autoForwardAction(attrs: PortAttributes): OnAutoForward {
  return attrs.onAutoForward ?? 'notify';
}
