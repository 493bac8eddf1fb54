/**
 * `jobrun submit --wait`: watches a run until it is `completed` or `failed`. It follows the
 * project's change stream for the run and re-reads the run on each message (and every 5 s as
 * a safety net); when the stream fails or ends it polls every `pollMs` instead. Progress is one
 * updating line on a terminal, a line per change otherwise, nothing when quiet.
 */
import { countArraySpec } from '../domain/array-spec.js';
import type { CejobsClient } from '../client/client.js';
import { ApiError } from '../client/errors.js';
import type { ApiJobRun } from '../client/types.js';
import { CliFailure } from './errors.js';
import type { Output } from './io.js';

export interface WaitOptions {
  /** Give up after this long (`--wait-timeout`, in ms). */
  timeoutMs: number;
  /** Polling period when the change stream is unavailable. */
  pollMs: number;
  out: Output;
  /** One updating progress line (terminal) or plain lines. */
  isTTY: boolean;
}

/** Resolves when `notify()` is called (or was called since the last wait), or after `ms`. */
class Wakeup {
  private wake: (() => void) | undefined;
  private pending = false;
  notify(): void {
    if (this.wake) this.wake();
    else this.pending = true;
  }
  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }
}

/** `Waiting for job run 'x' to complete... 5/20 done, 1 failed`. */
export function progressLine(run: ApiJobRun): string {
  let total = 0;
  try {
    total = countArraySpec(run.scale_array_spec ?? '0');
  } catch {
    total = run.status_details?.requested ?? 0;
  }
  const d = run.status_details;
  const done = (d?.succeeded ?? 0) + (d?.failed ?? 0);
  const failed = d?.failed ?? 0;
  return `Waiting for job run '${run.name}' to complete... ${done}/${total} done${failed > 0 ? `, ${failed} failed` : ''}`;
}

export const isFinished = (run: ApiJobRun): boolean => run.status === 'completed' || run.status === 'failed';

/** Waits until the run finishes; returns it. Throws `CliFailure` on timeout or deletion. */
export async function waitForRun(client: CejobsClient, project: string, runName: string, options: WaitOptions): Promise<ApiJobRun> {
  const { out } = options;
  const deadline = Date.now() + options.timeoutMs;
  const wake = new Wakeup();
  const abort = new AbortController();
  let streaming = true;
  let markOpen: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (markOpen = resolve));

  void (async () => {
    try {
      for await (const msg of client.changes(project, { jobRun: runName, signal: abort.signal, onOpen: () => markOpen() })) {
        if (msg.data.job_run_name === runName) wake.notify();
      }
    } catch {
      // stream unavailable or aborted: poll instead
    } finally {
      streaming = false;
      markOpen();
      wake.notify();
    }
  })();

  let lastLine = '';
  let drawn = false;
  const show = (line: string): void => {
    if (out.quiet || line === lastLine) return;
    lastLine = line;
    if (options.isTTY) {
      out.write(`\r\x1b[K${line}`);
      drawn = true;
    } else out.line(line);
  };
  const endLine = (): void => {
    if (drawn) out.write('\n');
    drawn = false;
  };

  try {
    let openTimer: NodeJS.Timeout | undefined;
    await Promise.race([opened, new Promise<void>((r) => (openTimer = setTimeout(r, 2000)))]);
    clearTimeout(openTimer);
    for (;;) {
      let run: ApiJobRun;
      try {
        run = await client.getJobRun(project, runName);
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) {
          endLine();
          throw new CliFailure(`Job run '${runName}' was deleted while waiting for it.`);
        }
        throw e;
      }
      show(progressLine(run));
      if (isFinished(run)) {
        endLine();
        return run;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        endLine();
        const seconds = Math.round(options.timeoutMs / 1000);
        throw new CliFailure(
          `Timed out after ${seconds} seconds waiting for job run '${runName}' to complete (--wait-timeout); it is still ${run.status}.\n` +
            `Run 'ce jobrun get -n ${runName}' to check its status.`,
        );
      }
      await wake.wait(Math.min(streaming ? 5000 : options.pollMs, remaining));
    }
  } finally {
    abort.abort();
  }
}
