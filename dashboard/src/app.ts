/**
 * Berth's web dashboard: log in with a token (the gateway sets an HttpOnly
 * cookie), then the user's containers, refreshed every two seconds, with
 * start/stop/rebuild/delete, live logs and a terminal.
 */
import { call, HttpError, type ContainerRecord } from './api';
import { renderContainers } from './containers';
import { streamLogs } from './logs';
import { openTerminal } from './terminal';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

let closePanel: (() => void) | undefined;
let timer: number | undefined;

function status(text: string, error = false): void {
  const p = $('status');
  p.textContent = text;
  p.className = error ? 'error' : 'muted';
}

function action(text: string, error = false): void {
  const p = $('action');
  p.textContent = text;
  p.className = error ? 'error' : 'muted';
}

function showPanel(title: string, kind: 'terminal' | 'logs'): void {
  closePanel?.();
  closePanel = undefined;
  $('panel').hidden = false;
  $('panel-title').textContent = title;
  $('terminal').hidden = kind !== 'terminal';
  $('logs').hidden = kind !== 'logs';
}

let refreshing: Promise<void> = Promise.resolve();

/** One refresh after another: a slow one never paints over a newer one. */
function refresh(): Promise<void> {
  refreshing = refreshing.then(render);
  return refreshing;
}

async function render(): Promise<void> {
  try {
    const n = await renderContainers($<HTMLTableElement>('containers').tBodies[0] as HTMLTableSectionElement, {
      act: (id, verb) => void act(id, verb),
      terminal: (c: ContainerRecord) => {
        showPanel(`Terminal: ${c.name}`, 'terminal');
        closePanel = openTerminal(c.id, $('terminal'));
      },
      logs: (c: ContainerRecord) => {
        showPanel(`Logs: ${c.name}`, 'logs');
        closePanel = streamLogs(c.id, $<HTMLPreElement>('logs'));
      },
    });
    $('empty').hidden = n > 0;
    status(`Updated ${new Date().toLocaleTimeString()}`);
  } catch (err) {
    if (err instanceof HttpError && err.status === 401) return showLogin();
    status(String(err), true);
  }
}

async function act(id: string, verb: 'start' | 'stop' | 'rebuild' | 'delete'): Promise<void> {
  action(`${verb}…`);
  try {
    if (verb === 'delete') {
      if (!confirm('Delete this container?')) return action('');
      await call('DELETE', `/v1/containers/${id}?force=true`);
    } else if (verb === 'rebuild') await call('POST', `/gw/containers/${id}/rebuild`);
    else await call('POST', `/v1/containers/${id}/${verb}`);
    await refresh();
    action(`${verb}: done`);
  } catch (err) {
    action(`${verb} failed: ${err instanceof Error ? err.message : String(err)}`, true);
    await refresh();
  }
}

function showLogin(): void {
  if (timer !== undefined) clearInterval(timer);
  $('app').hidden = true;
  $('logout').hidden = true;
  $('who').textContent = '';
  $('login').hidden = false;
}

async function start(): Promise<void> {
  try {
    const me = await call<{ user: string }>('GET', '/gw/whoami');
    $('who').textContent = me.user;
    $('login').hidden = true;
    $('app').hidden = false;
    $('logout').hidden = false;
    await refresh();
    timer = window.setInterval(() => void refresh(), 2000);
  } catch (err) {
    if (err instanceof HttpError && (err.status === 401 || err.status === 429)) {
      showLogin();
      if (err.status === 429) $('login-error').textContent = err.message;
    } else status(String(err), true);
  }
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  const token = $<HTMLInputElement>('token').value.trim();
  call('POST', '/gw/login', { token }).then(
    () => {
      $('login-error').textContent = '';
      $<HTMLInputElement>('token').value = '';
      void start();
    },
    (err: unknown) => ($('login-error').textContent = err instanceof Error ? err.message : String(err)),
  );
});
$('logout').addEventListener('click', () => void call('POST', '/gw/logout').then(showLogin));

void start();
