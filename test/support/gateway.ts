/**
 * A `berth serve` of a test's own: the bundled CLI in its own process,
 * tokens in a config folder of the test's, and an HTTPS/WebSocket client
 * that trusts the gateway's self-signed certificate (as its CA: this checks
 * its names too) and may leave from another loopback address (127.0.0.N),
 * so that rate limits in one test do not hit another.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import WebSocket from 'ws';
import { runBerth, singleJson } from './cli';
import { berthCli } from './repo';

export interface GatewayProcess {
  readonly url: string;
  readonly port: number;
  readonly fingerprint: string | undefined;
  readonly cert: Buffer | undefined;
  /** The first line of stdout: serve's one JSON result. */
  readonly result: Record<string, unknown>;
  stderr(): string;
  stop(): Promise<void>;
}

export async function startGatewayProcess(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<GatewayProcess> {
  const child: ChildProcess = spawn(process.execPath, [berthCli(), 'serve', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      const nl = stdout.indexOf('\n');
      if (nl >= 0) resolve(stdout.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`berth serve exited (${String(code)}): ${stdout}${stderr}`)));
  });
  const result = JSON.parse(line) as Record<string, unknown>;
  assert.equal(result['outcome'], 'success', line + stderr);
  const certificate = typeof result['certificate'] === 'string' ? await readFile(result['certificate']) : undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: String(result['url']),
    port: Number(result['port']),
    fingerprint: typeof result['fingerprint'] === 'string' ? result['fingerprint'] : undefined,
    cert: certificate,
    result,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function createToken(configDir: string, user: string, extra: readonly string[] = []): Promise<{ token: string; id: string }> {
  const r = await runBerth(['token', 'create', '--user', user, '--config-dir', configDir, ...extra]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const j = singleJson(r.stdout);
  return { token: String(j['token']), id: String(j['id']) };
}

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  json(): unknown;
}

export interface RequestOptions {
  readonly token?: string;
  readonly body?: unknown;
  readonly from?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export function gatewayRequest(g: GatewayProcess, method: string, path: string, o: RequestOptions = {}): Promise<Reply> {
  const payload = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
  const u = new URL(path, g.url);
  const secure = u.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(
      u,
      {
        method,
        ...(secure && g.cert ? { ca: g.cert } : {}),
        ...(o.from ? { localAddress: o.from } : {}),
        headers: {
          ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
          ...o.headers,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as unknown }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Opens a WebSocket on the gateway: the HTTP status it was refused with, or the open socket. */
export function gatewaySocket(g: GatewayProcess, path: string, o: RequestOptions = {}): Promise<{ status: number; ws?: WebSocket; firstMessage?: Promise<Buffer> }> {
  const u = new URL(path, g.url);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(u, {
      ...(g.cert ? { ca: g.cert } : {}),
      ...(o.from ? { localAddress: o.from } : {}),
      headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...o.headers },
    });
    // Listening from the start: the first message can come in the same read as the 101, before a caller could listen.
    const firstMessage = new Promise<Buffer>((r) => ws.once('message', (d: Buffer) => r(d)));
    ws.once('open', () => resolve({ status: 101, ws, firstMessage }));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    ws.once('error', reject);
  });
}
