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

function cell(row: HTMLTableRowElement, text: string, className?: string): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function portLinks(c: ContainerRecord): HTMLElement {
  const span = document.createElement('span');
  for (const p of c.network?.boundPorts ?? []) {
    if (p.protocol !== 'tcp') continue;
    const a = document.createElement('a');
    a.href = `${location.protocol === 'https:' ? 'https' : 'http'}://${location.hostname}:${p.hostPort}/`;
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

export async function renderContainers(body: HTMLTableSectionElement, actions: RowActions): Promise<number> {
  const list = await call<ContainerRecord[]>('GET', '/v1/containers?all=true');
  const usage = await Promise.all(list.map((c) => (c.state.status === 'running' ? call<Usage>('GET', `/v1/containers/${c.id}/stats`).catch(() => undefined) : Promise.resolve(undefined))));
  const rows = list.map((c, i) => {
    const row = document.createElement('tr');
    row.dataset['id'] = c.id;
    row.dataset['name'] = c.name;
    cell(row, c.name, 'name');
    cell(row, c.state.status, `state ${c.state.status}`);
    cell(row, c.request.labels?.['devcontainer.local_folder'] ?? '', 'workspace');
    row.insertCell().append(portLinks(c));
    const u = usage[i];
    cell(row, u ? cpuPercent(c.id, u) : '', 'cpu');
    // A limit only where the container has one (else the reading is the host's memory).
    const limited = (c.request.resources?.memory ?? 0) > 0 && u !== undefined && u.memoryLimitBytes > 0;
    cell(row, u ? `${mib(u.memoryBytes)}${limited ? ` / ${mib(u.memoryLimitBytes)}` : ''}` : '', 'memory');
    const running = c.state.status === 'running';
    const td = row.insertCell();
    td.className = 'actions';
    td.append(
      button('Start', () => actions.act(c.id, 'start'), running),
      button('Stop', () => actions.act(c.id, 'stop'), !running),
      button('Rebuild', () => actions.act(c.id, 'rebuild'), !c.request.labels?.['devcontainer.local_folder']),
      button('Delete', () => actions.act(c.id, 'delete')),
      button('Terminal', () => actions.terminal(c), !running),
      button('Logs', () => actions.logs(c)),
    );
    return row;
  });
  body.replaceChildren(...rows);
  return list.length;
}
