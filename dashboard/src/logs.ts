/** Live logs of a container: the last lines, then new ones as they come (follow). */
import { lines } from './api';

export function streamLogs(id: string, into: HTMLPreElement): () => void {
  const controller = new AbortController();
  into.textContent = '';
  void (async () => {
    for await (const m of lines(`/v1/containers/${encodeURIComponent(id)}/logs?follow=true&tail=200`, controller.signal)) {
      const line = (m as { line?: unknown }).line;
      if (typeof line !== 'string') continue;
      const stick = into.scrollTop + into.clientHeight >= into.scrollHeight - 4;
      into.append(`${line}\n`);
      if (stick) into.scrollTop = into.scrollHeight;
    }
  })().catch((err: unknown) => {
    if (!controller.signal.aborted) into.append(`\n[logs ended: ${String(err)}]\n`);
  });
  return () => controller.abort();
}
