import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProcNetTcp } from './ports';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12346 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 12347 1 0000000000000000 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 00000000000000000000000001000000:1388 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
`;

test('listening sockets are parsed from /proc/net/tcp and tcp6; others are skipped', () => {
  assert.deepEqual(parseProcNetTcp(TCP, 4), [
    { port: 8080, address: '127.0.0.1' },
    { port: 22, address: '0.0.0.0' },
  ]);
  assert.deepEqual(parseProcNetTcp(TCP6, 6), [
    { port: 3000, address: '::' },
    { port: 5000, address: '::1' },
  ]);
  assert.deepEqual(parseProcNetTcp('', 4), []);
});
