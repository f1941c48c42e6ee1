/**
 * The agent's memory through a busy tunnel, run as the engine runs it
 * (AGENT_NODE_FLAGS): its read slabs ask for a scavenge every few MiB
 * (server/src/slab-source.ts), so dead slabs do not pile up between V8's own
 * scavenges. Without that, 128 MB through the tunnel left 37-49 MB of
 * anonymous memory resident; with it, 20-25 MB. The agent also drops the
 * file pages of its start, and gives back what a session paged in once idle
 * (server/src/memory-release.ts): 45 MB resident right after the tunnel
 * (67 MB without the release), 20-23 MB once idle.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { ClientChannel } from 'ssh2';
import { IdleMemoryRelease, releasableRanges } from '../server/src/memory-release';
import { loadNativeCalls, NATIVE_MODULE } from '../server/src/native';
import { createLogger } from '../src/common/log';
import { AGENT_NODE_FLAGS } from '../src/engine/agent/bundle';
import { repoRoot } from './support/repo';
import { startAgentFixture, type AgentFixture } from './support/agent-fixture';
import { connectStdioAgent, type StdioAgent } from './support/agent-stdio-client';

const execFileAsync = promisify(execFile);
let agent: AgentFixture;
let stdio: StdioAgent;

before(async () => {
  agent = await startAgentFixture();
  stdio = await connectStdioAgent(agent, AGENT_NODE_FLAGS);
});

after(async () => {
  stdio.stop();
  await agent[Symbol.asyncDispose]();
});

async function residentMiB(pid: number | 'self', field: 'VmRSS' | 'RssAnon' | 'RssFile'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1]) / 1024;
}

const anonymousMiB = (pid: number): Promise<number> => residentMiB(pid, 'RssAnon');

test('128 MB through the tunnel leave less than 32 MiB of anonymous memory in the agent', async (t) => {
  let received = 0;
  let sunk!: Promise<void>;
  const server = net.createServer((s) => {
    sunk = new Promise((resolve) => s.on('end', resolve));
    s.on('data', (chunk: Buffer) => (received += chunk.length));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const channel = await new Promise<ClientChannel>((resolve, reject) => stdio.client.forwardOut('127.0.0.1', 0, '127.0.0.1', port, (err, ch) => (err ? reject(err) : resolve(ch))));
  channel.resume();
  const total = 128 << 20;
  const chunk = Buffer.alloc(1 << 20, 1);
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!channel.write(chunk)) await new Promise((resolve) => channel.once('drain', resolve));
  }
  channel.end();
  await new Promise((resolve) => channel.once('close', resolve));
  await sunk;
  assert.equal(received, total);
  const anon = await anonymousMiB(stdio.pid);
  assert.ok(anon < 32, `the agent holds ${anon.toFixed(1)} MiB of anonymous memory`);
});

test('once idle after that session, the agent holds less than 40 MB and still serves', async () => {
  // It gives memory back after a quiet second, and looks once a second.
  const deadline = Date.now() + 8000;
  let rss = await residentMiB(stdio.pid, 'VmRSS');
  while (rss >= 40 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    rss = await residentMiB(stdio.pid, 'VmRSS');
  }
  assert.ok(rss < 40, `the idle agent holds ${rss.toFixed(1)} MB`);
  const output = await new Promise<string>((resolve, reject) =>
    stdio.client.exec('echo served', (err, stream) => {
      if (err) return reject(err);
      let text = '';
      stream.on('data', (d: Buffer) => (text += d.toString()));
      stream.on('close', () => resolve(text));
    }),
  );
  assert.equal(output, 'served\n');
});

test("the memory module drops a process's clean file pages, and refuses what is not whole pages", async () => {
  const calls = loadNativeCalls(path.join(repoRoot(), 'dist', NATIVE_MODULE));
  const ranges = releasableRanges(await readFile('/proc/self/smaps', 'utf8'));
  const before = await residentMiB('self', 'RssFile');
  for (const range of ranges) assert.equal(calls.dropPages(range.start, range.length), 0);
  const after = await residentMiB('self', 'RssFile');
  assert.ok(after < before - 4, `file pages resident: ${before.toFixed(1)} MB before, ${after.toFixed(1)} MB after`);
  assert.throws(() => calls.dropPages(0x1001, 4096), TypeError);
  assert.throws(() => calls.dropPages(0x1000, 100), TypeError);
  // Nothing is mapped at 4 KiB: madvise says ENOMEM.
  assert.equal(calls.dropPages(0x1000, 4096), 12);
  assert.equal(typeof calls.trimHeap(), 'boolean');
});

test('a second after its start (here 100 ms) the release drops file pages once, without collecting or trimming the heaps', async () => {
  const records: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', write: (line) => records.push(JSON.parse(line) as Record<string, unknown>) });
  const release = new IdleMemoryRelease({ calls: loadNativeCalls(path.join(repoRoot(), 'dist', NATIVE_MODULE)), logger, afterStartMs: 100, intervalMs: 60_000 }).start();
  await new Promise((resolve) => setTimeout(resolve, 400));
  release.stop();
  const done = records.filter((r) => r['msg'] === 'gave memory back');
  assert.equal(done.length, 1, JSON.stringify(records));
  assert.equal(done[0]?.['heapTrimmed'], false);
  assert.ok(Number(done[0]?.['mappings']) > 0 && Number(done[0]?.['droppedKiB']) > 0, JSON.stringify(done[0]));
});

/**
 * Slabs taken and dropped four at a time, as a busy tunnel does (SlabSource,
 * with its scavenge), in a node with the agent's flags: the page faults of the
 * last rounds, with or without keepHeap.
 */
async function slabFaults(keep: boolean): Promise<number> {
  const script = `
    const calls = require(${JSON.stringify(path.join(repoRoot(), 'out', 'server', 'src', 'native.js'))}).loadNativeCalls(${JSON.stringify(path.join(repoRoot(), 'dist', NATIVE_MODULE))});
    const { SlabSource, youngCollection, HEAP_BLOCK, HEAP_KEEP } = require(${JSON.stringify(path.join(repoRoot(), 'out', 'server', 'src', 'slab-source.js'))});
    if (${keep} && !calls.keepHeap(HEAP_BLOCK, HEAP_KEEP)) throw new Error('keepHeap took nothing');
    const slabs = new SlabSource(youngCollection());
    let faults = 0;
    for (let round = 0; round < 40; round++) {
      const before = process.resourceUsage().minorPageFault;
      for (let i = 0; i < 4; i++) slabs.take().fill(round);
      if (round >= 10) faults += process.resourceUsage().minorPageFault - before;
    }
    process.stdout.write(String(faults));`;
  const { stdout } = await execFileAsync(process.execPath, [...AGENT_NODE_FLAGS, '-e', script]);
  return Number(stdout);
}

test("keepHeap keeps the tunnel's slabs in malloc's heap: taking them again faults in no new pages", async () => {
  const kept = await slabFaults(true);
  const given = await slabFaults(false);
  // 30 rounds of four 1 MiB slabs: 30720 pages faulted in when each slab is new memory.
  assert.ok(kept < 500, `page faults with keepHeap: ${kept}`);
  assert.ok(given > 5000, `page faults without keepHeap: ${given} (if malloc keeps slabs by itself, this test no longer shows anything)`);
  const calls = loadNativeCalls(path.join(repoRoot(), 'dist', NATIVE_MODULE));
  assert.throws(() => calls.keepHeap(0, 1), TypeError);
  assert.throws(() => calls.keepHeap(1.5, 1), TypeError);
});
