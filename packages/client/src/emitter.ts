/** Maps each event name to the tuple of arguments its listeners receive. */
export type EventMap = { [event: string]: unknown[] };

/** A listener of event `K` of map `E`. */
export type Listener<E extends EventMap, K extends keyof E> = (...args: E[K]) => void;

/**
 * A tiny typed event emitter that runs in browsers and Node (no `events` module). A listener that
 * throws does not stop the others nor the emitter's caller: its error is reported asynchronously
 * (like DOM event listeners), so it still surfaces as an uncaught error.
 */
export class Emitter<E extends EventMap> {
  /**
   * Listeners per event, stored untyped (the public methods tie each event to its listener type).
   * A list is replaced, never edited, when a listener comes or goes: `emit` walks the list it found
   * (a listener added or removed meanwhile does not change that call) without copying it, which
   * matters for events that fire thousands of times a second (entityChanged in a crowd).
   */
  private readonly listeners = new Map<keyof E, readonly unknown[]>();

  /** Adds a listener (once: adding it again changes nothing); returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: Listener<E, K>): () => void {
    const list = this.listeners.get(event) ?? [];
    if (!list.includes(listener)) this.listeners.set(event, [...list, listener]);
    return () => this.off(event, listener);
  }

  /** Adds a listener that runs at most once; returns a function that removes it. */
  once<K extends keyof E>(event: K, listener: Listener<E, K>): () => void {
    const off = this.on(event, (...args: E[K]) => {
      off();
      listener(...args);
    });
    return off;
  }

  /** Removes a listener added with `on` (no-op when it is not registered). */
  off<K extends keyof E>(event: K, listener: Listener<E, K>): void {
    const list = this.listeners.get(event);
    if (!list?.includes(listener)) return;
    const rest = list.filter((l) => l !== listener);
    if (rest.length === 0) this.listeners.delete(event);
    else this.listeners.set(event, rest);
  }

  /** Number of listeners of `event`. */
  listenerCount(event: keyof E): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  /** Calls every listener of `event` with `args`, in registration order. */
  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const list = this.listeners.get(event);
    if (!list) return;
    for (const listener of list) {
      try {
        (listener as Listener<E, K>)(...args);
      } catch (err) {
        reportListenerError(err);
      }
    }
  }

  /** Removes every listener. */
  removeAllListeners(): void {
    this.listeners.clear();
  }
}

function reportListenerError(err: unknown): void {
  const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof report === 'function') report(err);
  else
    queueMicrotask(() => {
      throw err;
    });
}
