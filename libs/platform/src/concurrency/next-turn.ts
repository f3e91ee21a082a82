/**
 * Resolves on the event loop's next turn (setImmediate), after the timers and I/O waiting now: a
 * long synchronous walk (pages read from SQLite, every entitlement of a registry) awaits it every
 * so often, so a request or a health probe is never kept waiting behind it.
 */
export function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
