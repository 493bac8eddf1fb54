/**
 * A scriptable driver for testing the engine (and for demos): no processes, time from the
 * injected clock. A `script` function decides how each attempt behaves:
 *
 *     const fake = new FakeDriver({ clock, script: (spec) =>
 *       spec.index === 3 ? { runForMs: 500, exitCode: 1 } : { runForMs: 1000, exitCode: 0 } });
 *
 * Behaviour fields: `runForMs` (absent = runs until stopped), `exitCode`, `signal`, `outcome`
 * (any `AttemptOutcome`, e.g. OOM), `output` (lines written to the log at start),
 * `ignoreSigterm` (only SIGKILL after the grace period stops it), `startError` (start rejects:
 * the runtime is unusable). Attempts live in a `FakeRuntime` that can outlive a driver, so a
 * test can close one driver and recover with a new one, as after a server restart; `vanish`
 * forgets an attempt as if its runtime had lost it.
 */
import type { Clock, TimerHandle } from '../../engine/clock.js';
import type { AttemptOutcome } from '../../domain/failure-reasons.js';
import { LogWriter } from '../../logs/writer.js';
import type {
  AttemptExit,
  AttemptHandle,
  AttemptRef,
  Driver,
  DriverCapabilities,
  ExitListener,
  InstanceSpec,
  RecoveredAttempt,
} from '../driver.js';

export interface FakeBehavior {
  runForMs?: number;
  exitCode?: number;
  signal?: string;
  outcome?: AttemptOutcome;
  output?: string[];
  ignoreSigterm?: boolean;
  startError?: string;
}

interface FakeAttempt {
  spec: InstanceSpec;
  behavior: FakeBehavior;
  startedAt: number;
  exit?: AttemptExit;
  timer?: TimerHandle;
  killTimer?: TimerHandle;
}

/** The "machine" the fake runs on: survives driver instances, like a real runtime. */
export class FakeRuntime {
  readonly attempts = new Map<string, FakeAttempt>();
  /** Every start that created an attempt, in order (a re-start of a known id is not counted). */
  readonly starts: InstanceSpec[] = [];

  /** Attempts still running. */
  running(): InstanceSpec[] {
    return [...this.attempts.values()].filter((a) => !a.exit).map((a) => a.spec);
  }
}

export interface FakeDriverOptions {
  clock: Clock;
  script?: (spec: InstanceSpec) => FakeBehavior;
  runtime?: FakeRuntime;
  capacity?: { cpuMillis: number; memoryBytes: number } | null;
  requiresCommand?: boolean;
}

const FAKE_CAPABILITIES: DriverCapabilities['limits'] = {
  cpu: { enforced: true, how: 'fake' },
  memory: { enforced: true, how: 'fake' },
  ephemeralStorage: { enforced: true, how: 'fake' },
};

export class FakeDriver implements Driver {
  readonly name = 'fake';
  readonly capabilities: DriverCapabilities;
  readonly runtime: FakeRuntime;
  private readonly clock: Clock;
  private readonly script: (spec: InstanceSpec) => FakeBehavior;
  private readonly listeners = new Set<ExitListener>();
  private closed = false;

  constructor(options: FakeDriverOptions) {
    this.clock = options.clock;
    this.script = options.script ?? (() => ({ runForMs: 0, exitCode: 0 }));
    this.runtime = options.runtime ?? new FakeRuntime();
    this.capabilities = {
      limits: FAKE_CAPABILITIES,
      capacity: options.capacity === undefined ? { cpuMillis: 8000, memoryBytes: 32e9 } : options.capacity,
      mounts: { enforced: true, how: 'fake (recorded, not written)' },
      requiresCommand: options.requiresCommand ?? false,
      runsImages: false,
    };
  }

  async start(spec: InstanceSpec): Promise<AttemptHandle> {
    const known = this.runtime.attempts.get(spec.attemptId);
    if (known) return this.handleOf(known);
    const behavior = this.script(spec);
    if (behavior.startError) throw new Error(behavior.startError);
    const attempt: FakeAttempt = { spec, behavior, startedAt: this.clock.now() };
    this.runtime.attempts.set(spec.attemptId, attempt);
    this.runtime.starts.push(spec);
    if (behavior.output?.length) {
      const w = new LogWriter(spec.logPath, { now: () => this.clock.now(), ...(spec.logMaxBytes ? { maxBytes: spec.logMaxBytes } : {}) });
      for (const line of behavior.output) w.write('stdout', `${line}\n`);
      w.close();
    }
    if (behavior.outcome?.kind === 'start-failed') {
      this.finish(attempt, behavior.outcome);
    } else if (behavior.runForMs !== undefined) {
      attempt.timer = this.clock.setTimer(() => this.finish(attempt, this.naturalOutcome(behavior)), behavior.runForMs);
    }
    return this.handleOf(attempt);
  }

  async stop(ref: AttemptRef, options: { graceMs: number }): Promise<void> {
    const a = this.runtime.attempts.get(ref.attemptId);
    if (!a || a.exit) return;
    if (!a.behavior.ignoreSigterm) {
      this.finish(a, { kind: 'exited', exitCode: null, signal: 'SIGTERM' });
      return;
    }
    a.killTimer ??= this.clock.setTimer(() => this.finish(a, { kind: 'exited', exitCode: null, signal: 'SIGKILL' }), options.graceMs);
  }

  async recover(ref: AttemptRef): Promise<RecoveredAttempt> {
    const a = this.runtime.attempts.get(ref.attemptId);
    if (!a) return { state: 'vanished' };
    if (a.exit) return { state: 'exited', exit: a.exit };
    return { state: 'running' };
  }

  async release(ref: AttemptRef): Promise<void> {
    const a = this.runtime.attempts.get(ref.attemptId);
    if (a?.exit) this.runtime.attempts.delete(ref.attemptId);
  }

  subscribe(listener: ExitListener): () => void {
    this.listeners.add(listener);
    // At-least-once: exits not yet released are delivered to a new listener.
    for (const a of this.runtime.attempts.values()) if (a.exit) listener(a.exit);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }

  /** Forgets an attempt as if the runtime had lost it (for recovery tests). */
  vanish(attemptId: string): void {
    const a = this.runtime.attempts.get(attemptId);
    a?.timer?.cancel();
    a?.killTimer?.cancel();
    this.runtime.attempts.delete(attemptId);
  }

  /** Ends a running attempt now with the given outcome (for tests that script by hand). */
  exitNow(attemptId: string, outcome: AttemptOutcome): void {
    const a = this.runtime.attempts.get(attemptId);
    if (a && !a.exit) this.finish(a, outcome);
  }

  private naturalOutcome(b: FakeBehavior): AttemptOutcome {
    if (b.outcome) return b.outcome;
    if (b.signal) return { kind: 'exited', exitCode: null, signal: b.signal };
    return { kind: 'exited', exitCode: b.exitCode ?? 0, signal: null };
  }

  private finish(a: FakeAttempt, outcome: AttemptOutcome): void {
    if (a.exit) return;
    a.timer?.cancel();
    a.killTimer?.cancel();
    const exit: AttemptExit = { attemptId: a.spec.attemptId, outcome, finishedAt: this.clock.now() };
    if (outcome.kind !== 'start-failed') exit.startedAt = a.startedAt;
    a.exit = exit;
    if (this.closed) return;
    for (const l of [...this.listeners]) l(exit);
  }

  private handleOf(a: FakeAttempt): AttemptHandle {
    return { driver: 'fake', version: 1, data: { startedAt: a.startedAt } };
  }
}
