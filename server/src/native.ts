/**
 * The agent's native calls (server/native/agent-native.c), built beside its
 * script by scripts/build.mjs; the engine's bundle copies the module
 * (src/engine/agent/bundle.ts names it too: the engine imports nothing from server/).
 */
export const NATIVE_MODULE = 'berth-agent-native.node';

export interface NativeCalls {
  /** madvise(MADV_DONTNEED): 0, or the errno. */
  dropPages(start: number, length: number): number;
  /** malloc_trim(0): whether it gave memory back. */
  trimHeap(): boolean;
  /** mallopt: blocks up to `block` bytes come from malloc's heap, and up to `keep` bytes of free memory stay there; whether both took. */
  keepHeap(block: number, keep: number): boolean;
  /** F_GETPIPE_SZ: the pipe's size in bytes, or -errno. */
  pipeSize(fd: number): number;
  /** F_SETPIPE_SZ: the pipe's new size in bytes, or -errno. */
  setPipeSize(fd: number, bytes: number): number;
}

/** Loads the module; throws when it is missing or not ours. */
export function loadNativeCalls(file: string): NativeCalls {
  const mod: { exports: Partial<NativeCalls> } = { exports: {} };
  process.dlopen(mod, file);
  const { dropPages, trimHeap, keepHeap, pipeSize, setPipeSize } = mod.exports;
  if (
    typeof dropPages !== 'function' ||
    typeof trimHeap !== 'function' ||
    typeof keepHeap !== 'function' ||
    typeof pipeSize !== 'function' ||
    typeof setPipeSize !== 'function'
  ) {
    throw new Error(`${file} is not the agent's native module`);
  }
  return { dropPages, trimHeap, keepHeap, pipeSize, setPipeSize };
}
