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
  // Listeners are stored untyped: the public methods tie each event to its listener type.
  private readonly listeners = new Map<keyof E, Set<unknown>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: Listener<E, K>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
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
    const set = this.listeners.get(event);
    if (!set) return;
    set.delete(listener);
    if (set.size === 0) this.listeners.delete(event);
  }

  /** Number of listeners of `event`. */
  listenerCount(event: keyof E): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  /** Calls every listener of `event` with `args`, in registration order. */
  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
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
