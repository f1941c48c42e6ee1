/**
 * SSH's "none" cipher and MAC (RFC 4253, 6.3 and 6.4), which ssh2 offers as
 * patched here (patches/ssh2+*.patch): after the key exchange and public-key
 * authentication, packets go in the clear, for a connection whose transport
 * is private already, as `docker exec` streams are. Encryption was the
 * largest single cost of the tunnel through a local engine: with AES-GCM on
 * both ends, bench/agent.mjs --engine measured 0.4-1.2 ns more CPU per byte
 * (of 2.5-3.2 in all), and 0.45 of direct loopback's throughput against
 * 0.5-0.8 in the clear, in the same turns.
 *
 * The agent offers "none" after its usual algorithms, and a client gets it
 * only by asking for it first: OpenSSH never does, so `ssh -F` through
 * `berth ssh-config` stays encrypted. Berth's own clients ask only when
 * their connection is the engine's local socket (mode 0600, root's alone):
 * over a gateway or an SSH channel they do not. The lists both sides sent
 * are part of what the agent's host key signs in the key exchange, so no one
 * in between can add "none" to a client's list. The cipher and the MAC go
 * only together: ssh2 refuses a connection with one of them alone.
 */
import type { Algorithms } from 'ssh2';

const CLEAR = 'none';

/** For the agent: "none" after ssh2's defaults, for a client that asks for it. */
export function offerClear(): Algorithms {
  // @types/ssh2 types an append list as needing prepend and remove too; ssh2 takes any of the three.
  return { cipher: { append: CLEAR }, hmac: { append: CLEAR } } as unknown as Algorithms;
}

/** For a client on the engine's local socket: "none" first, ssh2's defaults after it (an agent without it still answers). */
export function preferClear(): Algorithms {
  return { cipher: { prepend: CLEAR }, hmac: { prepend: CLEAR } } as unknown as Algorithms;
}
