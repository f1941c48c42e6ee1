import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { addInclude, includesFile, mergeHostBlock, remoteSshUri, sshConfigFiles, userConfigIncludesBerth, withInclude, writeBerthHosts } from './ssh-config-files';

const block = (name: string, user = 'root'): string => `Host ${name}.berth\n  HostName ${name}\n  User ${user}\n  ProxyCommand berth ssh --stdio ${name}\n`;

test('ssh config: a container block is added, then replaced (it moves last); other blocks stay', () => {
  const one = mergeHostBlock('', block('a'));
  assert.equal(one, block('a'));
  const two = mergeHostBlock(one, block('b'));
  assert.equal(two, `${block('a')}\n${block('b')}`);
  const replaced = mergeHostBlock(two, block('a', 'dev'));
  assert.equal(replaced, `${block('b')}\n${block('a', 'dev')}`);
  assert.doesNotMatch(replaced, /User root\n[\s\S]*User root/);
});

test('ssh config: the Include goes first, the rest stays byte for byte, and is not added twice', () => {
  const home = '/home/u';
  const file = '/home/u/.ssh/berth/config';
  const user = 'Host work\n  HostName 10.0.0.1\n\tUser me   # mine\n';
  const next = withInclude(user, file, home);
  assert.match(next, /^# Added by Berth[^\n]*\nInclude ~\/\.ssh\/berth\/config\n\n/);
  assert.ok(next.endsWith(user));
  assert.equal(withInclude(next, file, home), next);
  for (const line of ['Include ~/.ssh/berth/config', 'include berth/config', 'Include /home/u/.ssh/berth/config other', '  Include "~/.ssh/berth/config"']) {
    assert.ok(includesFile(`${line}\n`, file, home), line);
  }
  assert.equal(includesFile('Include ~/.ssh/other\n# Include ~/.ssh/berth/config\n', file, home), false);
});

test('ssh config: files written under a real home: Berth file 0600 in a 0700 dir, Include added to the user config once', async () => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'berth-ssh-'));
  try {
    const files = sshConfigFiles(home);
    await writeBerthHosts(files, block('a'));
    await writeBerthHosts(files, block('a', 'dev'));
    assert.equal(await readFile(files.berthConfig, 'utf8'), block('a', 'dev'));
    assert.equal((await stat(files.berthConfig)).mode & 0o777, 0o600);
    assert.equal((await stat(path.dirname(files.berthConfig))).mode & 0o777, 0o700);
    assert.equal(await userConfigIncludesBerth(files, home), false);
    // No ~/.ssh/config yet: one is made with the Include alone.
    await addInclude(files, home);
    assert.equal(await userConfigIncludesBerth(files, home), true);
    assert.equal((await stat(files.userConfig)).mode & 0o777, 0o600);
    // An existing one keeps every line.
    const mine = 'Host *\n  ServerAliveInterval 30\n';
    await mkdir(path.dirname(files.userConfig), { recursive: true });
    await writeFile(files.userConfig, mine);
    await addInclude(files, home);
    await addInclude(files, home);
    const text = await readFile(files.userConfig, 'utf8');
    assert.ok(text.endsWith(mine));
    assert.equal(text.match(/^Include /gm)?.length, 1);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test('ssh config: the Remote-SSH folder URI', () => {
  assert.equal(remoteSshUri('app.berth', '/workspaces/my app'), 'vscode-remote://ssh-remote+app.berth/workspaces/my%20app');
  const odd = remoteSshUri('a b', '/w');
  const hex = /^vscode-remote:\/\/ssh-remote\+([0-9a-f]+)\/w$/.exec(odd)?.[1] ?? '';
  assert.deepEqual(JSON.parse(Buffer.from(hex, 'hex').toString('utf8')), { hostName: 'a b' });
});
