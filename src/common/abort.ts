/**
 * A signal that aborts after `ms` or when `parent` aborts.
 *
 * Not `AbortSignal.any([AbortSignal.timeout(ms), parent])`: on Node 20 a
 * timeout signal held only by `any()` can be garbage-collected before it
 * fires (nodejs/node#57736), and the combined signal then never aborts. That
 * hung a container stop until the container exited by itself. Here the timer
 * holds the controller, so it fires; it is unref'd, so it keeps no process alive.
 */
export function timeoutSignal(ms: number, parent?: AbortSignal): AbortSignal {
  const controller = new AbortController();
  if (parent?.aborted) {
    controller.abort(parent.reason);
    return controller.signal;
  }
  const onParent = (): void => {
    clearTimeout(timer);
    controller.abort(parent?.reason);
  };
  const timer = setTimeout(() => {
    parent?.removeEventListener('abort', onParent);
    controller.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError'));
  }, Math.max(0, ms));
  timer.unref();
  parent?.addEventListener('abort', onParent, { once: true });
  return controller.signal;
}
