/**
 * A browser terminal (xterm.js) on a shell in the container: a WebSocket to
 * the gateway's /gw/containers/{id}/terminal, which carries the bytes of a
 * PTY through the container's agent. Binary messages both ways; resizes as
 * {"type":"resize","cols":C,"rows":R}.
 */
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';

export function openTerminal(id: string, into: HTMLElement): () => void {
  into.replaceChildren();
  const term = new Terminal({ cursorBlink: true, fontSize: 14, convertEol: false });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(into);
  fit.fit();
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${scheme}//${location.host}/gw/containers/${encodeURIComponent(id)}/terminal?cols=${term.cols}&rows=${term.rows}`);
  ws.binaryType = 'arraybuffer';
  const encoder = new TextEncoder();
  ws.onmessage = (e: MessageEvent<ArrayBuffer | string>) => term.write(typeof e.data === 'string' ? e.data : new Uint8Array(e.data));
  ws.onclose = (e) => term.write(`\r\n[session closed${e.reason ? `: ${e.reason}` : ''}]\r\n`);
  const input = term.onData((data) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(encoder.encode(data));
  });
  const resize = term.onResize(({ cols, rows }) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'resize', cols, rows }));
  });
  const onWindow = (): void => fit.fit();
  window.addEventListener('resize', onWindow);
  term.focus();
  return () => {
    window.removeEventListener('resize', onWindow);
    input.dispose();
    resize.dispose();
    ws.close();
    term.dispose();
  };
}
