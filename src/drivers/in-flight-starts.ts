/**
 * The contract's "`start` is idempotent per attempt id" for starts still under way: concurrent
 * starts of one id share one promise (one attempt), and the id is forgotten once that promise
 * settles — from then on the driver's own record of the attempt answers.
 */
import type { AttemptHandle } from './driver.js';

export class InFlightStarts {
  private readonly starts = new Map<string, Promise<AttemptHandle>>();

  /** The start under way for `attemptId`, or `start()` as the one every concurrent caller shares. */
  async run(attemptId: string, start: () => Promise<AttemptHandle>): Promise<AttemptHandle> {
    const inFlight = this.starts.get(attemptId);
    if (inFlight) return inFlight;
    const p = start();
    this.starts.set(attemptId, p);
    try {
      return await p;
    } finally {
      if (this.starts.get(attemptId) === p) this.starts.delete(attemptId);
    }
  }
}
