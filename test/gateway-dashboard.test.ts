/**
 * The dashboard `berth serve` serves, end to end in headless Chromium
 * (Debian's, through playwright-core) against a real berthd: log in with a
 * token, the user's containers only, stop/start, a terminal (xterm.js over
 * the agent's PTY) that echoes, a live log stream, a forwarded web port,
 * rebuild and delete. Screenshots go to .berth-test/artifacts/.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { runBerth, singleJson } from './support/cli';
import { gotoPage, launchChromium } from './support/browser';
import { startEngineFixture, type EngineFixture } from './support/engine-fixture';
import { createToken, gatewayRequest, startGatewayProcess, type GatewayProcess } from './support/gateway';
import { repoRoot } from './support/repo';

let fx: EngineFixture;
let gw: GatewayProcess;
let browser: Browser;
let page: Page;
let frank = '';
let devId = '';
let tickerId = '';
let graceId = '';
const artifacts = path.join(repoRoot(), '.berth-test', 'artifacts');
const shot = (name: string): Promise<Buffer> => page.screenshot({ path: path.join(artifacts, `dashboard-${name}.png`), fullPage: true });
const row = (id: string) => page.locator(`tr[data-id="${id}"]`);

/** Polls `check` until it holds (the page's own clock drives the dashboard). */
async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function create(token: string, name: string, cmd: string, extra: Record<string, unknown> = { networkMode: 'none' }): Promise<string> {
  const r = await gatewayRequest(gw, 'POST', '/v1/containers', { token, body: { name, image: fx.images.latest, cmd: ['sh', '-c', cmd], stopTimeout: 1, ...extra } });
  assert.equal(r.status, 200, r.text);
  const id = (r.json() as { id: string }).id;
  assert.equal((await gatewayRequest(gw, 'POST', `/v1/containers/${id}/start`, { token })).status, 200);
  return id;
}

before(async () => {
  await mkdir(artifacts, { recursive: true });
  fx = await startEngineFixture('berth-dashboard-', { pull: true });
  const configDir = path.join(fx.dir, 'etc');
  frank = (await createToken(configDir, 'frank')).token;
  const grace = (await createToken(configDir, 'grace')).token;
  gw = await startGatewayProcess(['--listen', '127.0.0.1:0', '--socket', fx.socket, '--config-dir', configDir]);
  assert.equal(gw.result['dashboard'], true, 'the dashboard files were built');
  const ws = path.join(fx.dir, 'dash-ws');
  await mkdir(path.join(ws, '.devcontainer'), { recursive: true });
  await writeFile(path.join(ws, '.devcontainer', 'devcontainer.json'), JSON.stringify({ name: 'dash', image: fx.images.latest, remoteUser: 'app' }));
  const up = await runBerth(['up', '--workspace-folder', ws], { env: { ...process.env, BERTH_HOST: gw.url, BERTH_TOKEN: frank, BERTH_TLS_FINGERPRINT: gw.fingerprint ?? '' } });
  assert.equal(up.code, 0, up.stdout + up.stderr);
  devId = String(singleJson(up.stdout)['containerId']);
  // The ticker also serves a page on a published port (a free host port on 127.0.0.1).
  tickerId = await create(frank, 'ticker', 'mkdir -p /tmp/www && echo "<h1>published port</h1>" > /tmp/www/index.html && httpd -p 80 -h /tmp/www; i=0; while true; do echo tick-$i; i=$((i+1)); sleep 1; done', {
    ports: [{ containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 0 }],
  });
  graceId = await create(grace, 'graces-secret', 'sleep 100000');
  browser = await launchChromium();
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('dialog', (d) => void d.accept());
  page.on('requestfailed', (r) => failedRequests.push(`${r.url()} (${r.failure()?.errorText ?? '?'})`));
});

after(async () => {
  await browser?.close();
  await gw?.stop();
  await fx?.dispose();
});

/** Requests the page lost, with chromium's reason (net::ERR_NETWORK_CHANGED while other suites' veths come and go). */
const failedRequests: string[] = [];

/**
 * Opens the dashboard until its script has decided: the login form shown, or a status. A page whose
 * script or first request a network change dropped shows neither, and is loaded again (twice at most).
 */
async function openDashboard(): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await gotoPage(page, gw.url);
    const decided = await page
      .waitForFunction("document.querySelector('#login')?.hidden === false || Boolean(document.querySelector('#status')?.textContent)", undefined, { timeout: 10_000 })
      .then(
        () => true,
        () => false,
      );
    if (decided || attempt >= 3) return;
    process.stderr.write(`the dashboard showed neither its login nor a status (failed requests: ${failedRequests.join(', ') || 'none'}): loading it again\n`);
  }
}

test('dashboard: a wrong token is refused; the right one lists only the user\'s containers with state and resource use', { timeout: 90_000 }, async () => {
  await openDashboard();
  // The page shows the login after its whoami says 401; any other answer goes to #status: say which.
  await page
    .locator('#login')
    .waitFor({ state: 'visible' })
    .catch(async (err: Error) => {
      await shot('login-missing').catch(() => undefined);
      throw new Error(`${err.message}\nthe page's status: ${await page.locator('#status').textContent()}\nfailed requests: ${failedRequests.join(', ') || 'none'}`);
    });
  await page.fill('#token', 'berth_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
  await page.click('#login button[type=submit]');
  await page.locator('#login-error', { hasText: 'unknown token' }).waitFor();
  await shot('login-refused');
  await page.fill('#token', frank);
  await page.click('#login button[type=submit]');
  await row(devId).waitFor();
  await row(tickerId).waitFor();
  assert.equal(await page.textContent('#who'), 'frank');
  assert.equal(await row(graceId).count(), 0, "grace's container is not listed");
  assert.equal(await page.locator('#containers tbody tr').count(), 2);
  assert.equal(await row(devId).locator('.state').textContent(), 'running');
  assert.match((await row(devId).locator('.workspace').textContent()) ?? '', /dash-ws$/);
  // The second refresh has two readings: a CPU percentage and the memory in use.
  await until('a CPU reading', async () => /%$/.test((await row(tickerId).locator('.cpu').textContent()) ?? ''), 10_000);
  assert.match((await row(tickerId).locator('.memory').textContent()) ?? '', /MiB/);
  await shot('list');
  // The published port's link opens the container's page.
  const link = row(tickerId).locator('a', { hasText: /^\d+→80$/ });
  const href = await link.getAttribute('href');
  assert.match(href ?? '', /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const web = await page.context().newPage();
  await gotoPage(web, href ?? '');
  assert.equal(await web.textContent('h1'), 'published port');
  await web.close();
});

test('dashboard: stop and start a container', { timeout: 60_000 }, async () => {
  await row(tickerId).locator('button[data-action=stop]').click();
  await row(tickerId).locator('.state', { hasText: 'exited' }).waitFor({ timeout: 20_000 });
  assert.equal((singleJson((await fx.berth(['container', 'inspect', tickerId])).stdout)['state'] as { status: string }).status, 'exited');
  await shot('stopped');
  await row(tickerId).locator('button[data-action=start]').click();
  await row(tickerId).locator('.state', { hasText: 'running' }).waitFor({ timeout: 20_000 });
  await shot('started');
});

test('dashboard: the terminal runs a shell in the container through the agent and echoes', { timeout: 60_000 }, async () => {
  await row(devId).locator('button[data-action=terminal]').click();
  await page.locator('#terminal .xterm').waitFor();
  // The shell's prompt (the agent runs as the container's user, like berth ssh).
  await page.locator('#terminal .xterm-rows', { hasText: /[$#] *$/m }).waitFor({ timeout: 20_000 });
  // Only the shell's output has 42 (the typed line has the arithmetic); the file shows it ran in the container.
  await page.keyboard.type('echo "dashboard-$((6*7))" > /tmp/from-terminal; cat /tmp/from-terminal\n');
  await page.locator('#terminal .xterm-rows', { hasText: 'dashboard-42' }).waitFor({ timeout: 10_000 });
  const inside = await gatewayRequest(gw, 'POST', `/v1/containers/${devId}/exec`, { token: frank, body: { cmd: ['cat', '/tmp/from-terminal'] } });
  assert.match(inside.text, /dashboard-42/);
  await shot('terminal');
});

test('dashboard: live logs stream new lines as the container writes them', { timeout: 60_000 }, async () => {
  await row(tickerId).locator('button[data-action=logs]').click();
  await page.locator('#logs', { hasText: 'tick-' }).waitFor({ timeout: 10_000 });
  const last = async (): Promise<number> => Math.max(...[...((await page.textContent('#logs')) ?? '').matchAll(/tick-(\d+)/g)].map((m) => Number(m[1])));
  const first = await last();
  await until('two more log lines', async () => (await last()) >= first + 2, 15_000);
  await shot('logs');
});

test('dashboard: a web port inside the container opens through the gateway; rebuild and delete', { timeout: 120_000 }, async () => {
  const serve = await gatewayRequest(gw, 'POST', `/v1/containers/${devId}/exec`, { token: frank, body: { cmd: ['sh', '-c', 'mkdir -p /tmp/www && echo "<h1>served from the container</h1>" > /tmp/www/index.html && httpd -p 127.0.0.1:8080 -h /tmp/www'] } });
  assert.match(serve.text, /"exitCode":0/);
  const web = await page.context().newPage();
  await gotoPage(web, `${gw.url}/gw/containers/${devId}/ports/8080`);
  assert.equal(await web.textContent('h1'), 'served from the container');
  await web.screenshot({ path: path.join(artifacts, 'dashboard-forwarded-port.png') });
  await web.close();

  await row(devId).locator('button[data-action=rebuild]').click();
  await page.locator('#action', { hasText: 'rebuild: done' }).waitFor({ timeout: 90_000 });
  const rows = await Promise.all((await page.locator('#containers tbody tr').all()).map((tr) => tr.getAttribute('data-id')));
  assert.ok(!rows.includes(devId), 'the old container is gone');
  assert.equal(rows.length, 2, 'a new dev container took its place');

  await row(tickerId).locator('button[data-action=delete]').click();
  await row(tickerId).waitFor({ state: 'detached', timeout: 20_000 });
  assert.equal((await fx.berth(['container', 'inspect', tickerId])).code, 1);
  await shot('after-rebuild-delete');
});
