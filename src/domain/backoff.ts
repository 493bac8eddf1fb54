/**
 * Backoff of task retries and daemon restarts (SPEC "backoff"):
 * 1 s, doubling, ±20 % jitter, capped at 60 s; the failure count resets after 60 s of healthy
 * running. Everything here is computed from persisted facts (the consecutive-failure count and
 * how long the failed attempt ran), so a server restart does not reset it. The jittered delay
 * is computed once, when the failure is recorded, and persisted as a not-before time.
 */

export interface BackoffSettings {
  /** Delay after the first failure. @default 1000 */
  initialMs: number;
  /** Growth per further consecutive failure. @default 2 */
  factor: number;
  /** Cap of the delay. @default 60000 */
  maxMs: number;
  /** Relative jitter, 0.2 = ±20 %. @default 0.2 */
  jitter: number;
  /** An attempt that ran at least this long before failing resets the count. @default 60000 */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffSettings = {
  initialMs: 1000,
  factor: 2,
  maxMs: 60_000,
  jitter: 0.2,
  resetAfterMs: 60_000,
};

/**
 * Consecutive failures after one more failure of an attempt that ran `ranForMs`.
 * A long healthy run means the failure starts a new streak.
 */
export function nextFailureCount(previous: number, ranForMs: number, settings: BackoffSettings): number {
  return ranForMs >= settings.resetAfterMs ? 1 : previous + 1;
}

/**
 * Delay before the next start after `failures` consecutive failures (≥ 1).
 * `random` returns a number in [0, 1) (injected so tests are exact).
 */
export function backoffDelayMs(failures: number, settings: BackoffSettings, random: () => number): number {
  if (failures <= 0 || settings.initialMs <= 0) return 0;
  const base = Math.min(settings.initialMs * Math.pow(settings.factor, failures - 1), settings.maxMs);
  const spread = base * settings.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(Math.min(base + spread, settings.maxMs)));
}
