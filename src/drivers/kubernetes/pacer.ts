/**
 * Paces pod creation so that a 1,000-index run does not flood the API server or the scheduler:
 *
 * - a **token bucket** shared by all projects: `qps` tokens per second, at most `burst` saved up;
 *   one token per pod creation;
 * - a **cap of pods in flight per project**: a slot is taken before the pod is created and
 *   given back when the pod runs, ends or could not be created. A project at its cap waits
 *   while other projects go on (waiters are served first come, first served among those that
 *   can go).
 *
 * The clock and the timer are injected, so tests drive time by hand.
 */
export interface PacerClock {
  now(): number;
  /** Calls `fn` after `ms`; returns a cancel function. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemPacerClock: PacerClock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return () => clearTimeout(t);
  },
};

export interface PacerOptions {
  qps: number;
  burst: number;
  maxInFlightPerProject: number;
}

/** The token bucket alone (pure). */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.at = now;
  }

  private refill(now: number): void {
    if (now > this.at) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.rate) / 1000);
      this.at = now;
    }
  }

  /** Takes a token when one is there; else says in how many ms the next one is. */
  take(now: number): { ok: true } | { ok: false; waitMs: number } {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, waitMs: Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.rate)) };
  }
}

interface Waiter {
  project: string;
  resolve: (release: () => void) => void;
  reject: (e: Error) => void;
}

export class Pacer {
  private readonly bucket: TokenBucket;
  private readonly inFlight = new Map<string, number>();
  private readonly queue: Waiter[] = [];
  private cancelTimer: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly options: PacerOptions,
    private readonly clock: PacerClock = systemPacerClock,
  ) {
    this.bucket = new TokenBucket(options.qps, options.burst, clock.now());
  }

  /** Pods of `project` holding a slot. */
  inFlightOf(project: string): number {
    return this.inFlight.get(project) ?? 0;
  }

  /** Waiters not served yet. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Resolves, once a token and a slot of `project` are available, with the function that gives
   * the slot back (idempotent). Rejects when the pacer is closed.
   */
  acquire(project: string): Promise<() => void> {
    if (this.closed) return Promise.reject(new Error('the pacer is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ project, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.cancelTimer) {
      this.cancelTimer();
      this.cancelTimer = undefined;
    }
    while (this.queue.length > 0) {
      const i = this.queue.findIndex((w) => this.inFlightOf(w.project) < this.options.maxInFlightPerProject);
      if (i < 0) return; // every waiting project is at its cap: a release pumps again
      const took = this.bucket.take(this.clock.now());
      if (!took.ok) {
        this.cancelTimer = this.clock.setTimer(() => {
          this.cancelTimer = undefined;
          this.pump();
        }, took.waitMs);
        return;
      }
      const [w] = this.queue.splice(i, 1);
      this.inFlight.set(w!.project, this.inFlightOf(w!.project) + 1);
      let released = false;
      w!.resolve(() => {
        if (released) return;
        released = true;
        const n = this.inFlightOf(w!.project) - 1;
        if (n > 0) this.inFlight.set(w!.project, n);
        else this.inFlight.delete(w!.project);
        if (!this.closed) this.pump();
      });
    }
  }

  /** Rejects every waiter and stops the timer. */
  close(): void {
    this.closed = true;
    this.cancelTimer?.();
    for (const w of this.queue.splice(0)) w.reject(new Error('the pacer is closed'));
  }
}
