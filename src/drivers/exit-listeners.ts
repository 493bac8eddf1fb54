/**
 * The subscribers of a driver's exits, as the contract wants them served: a listener that throws
 * never breaks the driver or the other listeners, and a new subscriber gets the exits the driver
 * still holds (not yet released) replayed — at least once — on the next microtask, after
 * `subscribe` has returned.
 */
import type { AttemptExit, ExitListener } from './driver.js';

export class ExitListeners {
  private readonly listeners = new Set<ExitListener>();

  /** Adds `listener` and replays `held` to it; returns the function that removes it. */
  subscribe(listener: ExitListener, held: readonly AttemptExit[]): () => void {
    this.listeners.add(listener);
    if (held.length > 0) {
      queueMicrotask(() => {
        if (!this.listeners.has(listener)) return;
        for (const exit of held) deliver(listener, exit);
      });
    }
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Delivers an exit to every current listener. */
  emit(exit: AttemptExit): void {
    for (const l of [...this.listeners]) deliver(l, exit);
  }

  clear(): void {
    this.listeners.clear();
  }
}

function deliver(listener: ExitListener, exit: AttemptExit): void {
  try {
    listener(exit);
  } catch {
    // a listener's failure is its own
  }
}

/** The exits of the attempts a driver still holds (exited, not yet released): what `subscribe` replays. */
export function heldExits(attempts: Iterable<{ exit?: AttemptExit | undefined }>): AttemptExit[] {
  const held: AttemptExit[] = [];
  for (const a of attempts) if (a.exit) held.push(a.exit);
  return held;
}
