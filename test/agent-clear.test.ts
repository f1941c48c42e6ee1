/**
 * SSH's "none" cipher and MAC between Berth's client and the agent
 * (src/common/ssh-clear.ts, ssh2 as patched in patches/): the agent offers it
 * after its usual algorithms; a client that asks for it first gets packets in
 * the clear, after a key exchange and public-key authentication as usual; one
 * that does not ask gets AES-GCM; the cipher and the MAC go only together.
 * The agent runs on its stdio; the bytes both ways are recorded on the wire.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { after, before, test } from 'node:test';
import { Client, type Algorithms, type ConnectConfig } from 'ssh2';
import { preferClear } from '../src/common/ssh-clear';
import { startAgentFixture, type AgentFixture } from './support/agent-fixture';

let agent: AgentFixture;

before(async () => {
  agent = await startAgentFixture();
});
after(async () => {
  await agent[Symbol.asyncDispose]();
});

interface Wire {
  /** What the client sent and what the agent sent, as read on the agent's stdio. */
  readonly sent: Buffer[];
  readonly received: Buffer[];
  text(): string;
}

/** An ssh2 client on a freshly spawned agent, with `algorithms`; records the bytes both ways. */
async function connect(algorithms: Algorithms | undefined): Promise<{ client: Client; cipher: string; wire: Wire } & AsyncDisposable> {
  const [file = '', ...args] = agent.agentArgv;
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const wire: Wire = {
    sent: [],
    received: [],
    text: () => Buffer.concat([...wire.sent, ...wire.received]).toString('latin1'),
  };
  // A copy: the client decrypts what it reads in place.
  child.stdout.on('data', (d: Buffer) => wire.received.push(Buffer.from(d)));
  const tapped = new Duplex({
    read: () => undefined,
    write: (chunk: Buffer, _encoding, done) => {
      wire.sent.push(Buffer.from(chunk));
      child.stdin.write(chunk, done);
    },
    final: (done) => child.stdin.end(done),
  });
  child.stdout.on('data', (d: Buffer) => tapped.push(d));
  child.stdout.on('end', () => tapped.push(null));
  const client = new Client();
  let cipher = '';
  client.once('handshake', (negotiated) => (cipher = negotiated.cs.cipher));
  const config: ConnectConfig = { sock: tapped, username: 'root', privateKey: await readFile(agent.clientKey), hostVerifier: () => true, ...(algorithms ? { algorithms } : {}) };
  const dispose = (): Promise<void> => {
    client.end();
    child.kill();
    return Promise.resolve();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve).once('error', reject);
      client.connect(config);
    });
  } catch (err) {
    await dispose();
    throw err;
  }
  return { client, cipher, wire, [Symbol.asyncDispose]: dispose };
}

function execText(client: Client, command: string): Promise<string> {
  return new Promise((resolve, reject) =>
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      let out = '';
      stream.on('data', (d: Buffer) => (out += d.toString()));
      stream.on('close', () => resolve(out));
    }),
  );
}

// The shell computes the answer: the command and its output differ on the wire.
const COMMAND = 'echo berth-clear-$((6*7))';

test('a client that asks for "none" first gets it: the command and its output cross the wire as they are', async () => {
  await using c = await connect(preferClear());
  assert.equal(c.cipher, 'none');
  assert.equal(await execText(c.client, COMMAND), 'berth-clear-42\n');
  assert.ok(c.wire.text().includes(COMMAND), 'the command is on the wire');
  assert.ok(c.wire.text().includes('berth-clear-42'), 'its output is on the wire');
});

test("a client with ssh2's defaults gets AES-GCM: neither the command nor its output is on the wire", async () => {
  await using c = await connect(undefined);
  assert.equal(c.cipher, 'aes128-gcm@openssh.com');
  assert.equal(await execText(c.client, COMMAND), 'berth-clear-42\n');
  assert.ok(!c.wire.text().includes('berth-clear'), 'nothing of it in the clear');
});

test('the "none" cipher goes only with the "none" MAC, and the MAC only with the cipher: either alone is refused, nothing runs', async () => {
  const marker = path.join(agent.dir, 'ran-without-protection');
  for (const algorithms of [
    { cipher: ['none'], hmac: ['hmac-sha2-256'] },
    { cipher: ['aes128-ctr'], hmac: ['none'] },
  ] as unknown as Algorithms[]) {
    await assert.rejects(
      async () => {
        await using c = await connect(algorithms);
        await execText(c.client, `touch ${marker}`);
      },
      /none cipher and the none MAC go only together|no matching|Handshake failed/,
    );
  }
  await assert.rejects(stat(marker));
});

test('OpenSSH cannot ask for "none": it knows no such cipher, and its own choices with the agent are encrypted', async () => {
  const none = await agent.ssh(['-c', 'none', agent.host, 'true']);
  assert.equal(none.code, 255);
  assert.match(none.stderr, /Unknown cipher type 'none'/);
  const r = await agent.ssh(['-v', agent.host, 'true']);
  assert.equal(r.code, 0, r.stderr);
  const chosen = /kex: client->server cipher: (\S+)/.exec(r.stderr)?.[1];
  assert.ok(chosen && chosen !== 'none', `OpenSSH's cipher: ${chosen}`);
});
