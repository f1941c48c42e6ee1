/** The table of the user's containers: state, workspace, ports, CPU and memory, and the actions on each. */
import { call, type ContainerRecord, type Usage } from './api';

export interface RowActions {
  readonly act: (id: string, verb: 'start' | 'stop' | 'rebuild' | 'delete') => void;
  readonly terminal: (c: ContainerRecord) => void;
  readonly logs: (c: ContainerRecord) => void;
}

const previous = new Map<string, Usage>();

function cpuPercent(id: string, now: Usage): string {
  const before = previous.get(id);
  previous.set(id, now);
  // No earlier reading, or the container restarted (its counter began again).
  if (!before || now.cpuNs < before.cpuNs) return '…';
  const system = now.systemCpuNs - before.systemCpuNs;
  if (system <= 0) return '0.0%';
  return `${(((now.cpuNs - before.cpuNs) / system) * now.onlineCpus * 100).toFixed(1)}%`;
}

const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;

function button(label: string, onClick: () => void, disabled = false): HTMLButtonElement {
  const b = document.createElement('button');
  b.textContent = label;
  b.dataset['action'] = label.toLowerCase();
  b.disabled = disabled;
  b.addEventListener('click', onClick);
  return b;
}

function portLinks(c: ContainerRecord): HTMLElement {
  const span = document.createElement('span');
  for (const p of c.network?.boundPorts ?? []) {
    if (p.protocol !== 'tcp') continue;
    const a = document.createElement('a');
    a.href = `http://${location.hostname}:${p.hostPort}/`;
    a.target = '_blank';
    a.rel = 'noopener';
    a.textContent = `${p.hostPort}→${p.containerPort}`;
    span.append(a, ' ');
  }
  const forward = document.createElement('a');
  forward.href = `/gw/containers/${encodeURIComponent(c.id)}/ports/`;
  forward.className = 'forward';
  forward.textContent = 'port…';
  forward.title = 'Open a port inside the container through the gateway';
  forward.addEventListener('click', (e) => {
    e.preventDefault();
    const port = prompt('Port inside the container', '8080');
    if (port && /^\d+$/.test(port)) window.open(`/gw/containers/${encodeURIComponent(c.id)}/ports/${port}/`, '_blank', 'noopener');
  });
  span.append(forward);
  return span;
}

const latest = new Map<string, ContainerRecord>();

/** A row made once per container (its buttons stay put under the pointer); refreshes change its cells. */
function makeRow(c: ContainerRecord, actions: RowActions): HTMLTableRowElement {
  const row = document.createElement('tr');
  row.dataset['id'] = c.id;
  row.dataset['name'] = c.name;
  for (const name of ['name', 'state', 'workspace', 'ports', 'cpu', 'memory']) row.insertCell().className = name;
  const td = row.insertCell();
  td.className = 'actions';
  const current = (): ContainerRecord => latest.get(c.id) ?? c;
  td.append(
    button('Start', () => actions.act(c.id, 'start')),
    button('Stop', () => actions.act(c.id, 'stop')),
    button('Rebuild', () => actions.act(c.id, 'rebuild')),
    button('Delete', () => actions.act(c.id, 'delete')),
    button('Terminal', () => actions.terminal(current())),
    button('Logs', () => actions.logs(current())),
  );
  return row;
}

function setText(row: HTMLTableRowElement, name: string, text: string): void {
  const td = row.querySelector<HTMLTableCellElement>(`td.${name}`);
  if (td && td.textContent !== text) td.textContent = text;
}

function updateRow(row: HTMLTableRowElement, c: ContainerRecord, u: Usage | undefined): void {
  const running = c.state.status === 'running';
  setText(row, 'name', c.name);
  setText(row, 'state', c.state.status);
  const state = row.querySelector('td.state');
  if (state) state.className = `state ${c.state.status}`;
  setText(row, 'workspace', c.request.labels?.['devcontainer.local_folder'] ?? '');
  const ports = row.querySelector('td.ports');
  const links = portLinks(c);
  if (ports && ports.innerHTML !== links.outerHTML) ports.replaceChildren(links);
  setText(row, 'cpu', u ? cpuPercent(c.id, u) : '');
  // A limit only where the container has one (else the reading is the host's memory).
  const limited = (c.request.resources?.memory ?? 0) > 0 && u !== undefined && u.memoryLimitBytes > 0;
  setText(row, 'memory', u ? `${mib(u.memoryBytes)}${limited ? ` / ${mib(u.memoryLimitBytes)}` : ''}` : '');
  const disabled: Readonly<Record<string, boolean>> = { start: running, stop: !running, rebuild: !c.request.labels?.['devcontainer.local_folder'], delete: false, terminal: !running, logs: false };
  for (const b of row.querySelectorAll<HTMLButtonElement>('td.actions button')) b.disabled = disabled[b.dataset['action'] ?? ''] ?? false;
}

export async function renderContainers(body: HTMLTableSectionElement, actions: RowActions): Promise<number> {
  const list = await call<ContainerRecord[]>('GET', '/v1/containers?all=true');
  const usage = await Promise.all(list.map((c) => (c.state.status === 'running' ? call<Usage>('GET', `/v1/containers/${c.id}/stats`).catch(() => undefined) : Promise.resolve(undefined))));
  const existing = new Map([...body.rows].map((r) => [r.dataset['id'] ?? '', r]));
  latest.clear();
  const rows = list.map((c, i) => {
    latest.set(c.id, c);
    const row = existing.get(c.id) ?? makeRow(c, actions);
    updateRow(row, c, usage[i]);
    return row;
  });
  // Same rows in the same order: nothing moves.
  if (rows.length !== body.rows.length || rows.some((r, i) => body.rows[i] !== r)) body.replaceChildren(...rows);
  return list.length;
}
