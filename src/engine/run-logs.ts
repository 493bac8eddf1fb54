/**
 * Logs of a job run: every instance's log, read whole or tailed, or followed live until the run
 * ends (task runs) or is deleted. Instances that appear while following (retries) are followed
 * too. Records come tagged with their instance and Code Engine's container name (the job name,
 * or the run name for a standalone run), as `jobrun logs` prints them: `<instance>/<container>:`.
 */
import type { LogRecord } from '../logs/format.js';
import { followLogRecords, readLogRecords } from '../logs/reader.js';
import { isRunTerminal } from '../domain/run-state.js';
import { CejobsError } from '../domain/errors.js';
import type { RunRow } from '../store/rows.js';
import type { Store } from '../store/store.js';
import type { EngineEmitter } from './changes.js';
import type { StateLayout } from './layout.js';

export interface InstanceLog {
  instance: string;
  container: string;
  records: LogRecord[];
}

export interface TaggedRecord {
  instance: string;
  container: string;
  record: LogRecord;
}

/**
 * Records read ahead of the consumer, at most: followers wait while the queue holds this many
 * (a slow client of a chatty or large log must not make the server buffer the whole log).
 */
export const FOLLOW_QUEUE_MAX = 2000;

export interface LogQuery {
  /** One instance's log only. */
  instance?: string;
  /** Last N records of each instance (negative: all). */
  tail?: number;
}

export class RunLogs {
  constructor(
    private readonly layout: StateLayout,
    private readonly store: Store,
    private readonly changes: EngineEmitter,
  ) {}

  /** The logs of a run's instances (all retries), by index then retry. */
  async read(run: RunRow, query: LogQuery = {}): Promise<InstanceLog[]> {
    const container = run.jobName ?? run.name;
    const out: InstanceLog[] = [];
    for (const name of this.instanceNames(run, query.instance)) {
      const records = await readLogRecords(this.layout.logPath(run.id, name), { tail: query.tail });
      out.push({ instance: name, container, records });
    }
    return out;
  }

  /**
   * Follows the logs of a run: existing records (or the last `tail` of each instance), then new
   * ones as they are written, until the run is finished and everything is read, the run is
   * deleted, or `signal` aborts.
   */
  async *follow(run: RunRow, query: LogQuery & { signal?: AbortSignal; pollMs?: number } = {}): AsyncGenerator<TaggedRecord> {
    const container = run.jobName ?? run.name;
    const queue: TaggedRecord[] = [];
    // One wake-up flag and at most one waiter: the consumer waits on nothing that outlives a
    // wake-up (a Promise.race on the followers per wake-up kept one reaction per record alive).
    let signaled = false;
    let wake: (() => void) | undefined;
    const notify = (): void => {
      signaled = true;
      wake?.();
      wake = undefined;
    };
    const finished = (): boolean => {
      const cur = this.store.getRunBySeq(run.seq);
      return !cur || cur.deleting || isRunTerminal(cur.status);
    };
    const followed = new Set<string>(); // instances with a follower
    let settledFollowers = 0;
    let failure: unknown;
    let closed = false;
    let roomWaiters: (() => void)[] = [];
    const room = (): Promise<void> => new Promise((r) => roomWaiters.push(r));
    const wakeFollowers = (): void => {
      const waiters = roomWaiters;
      roomWaiters = [];
      for (const w of waiters) w();
    };
    const startFollower = (name: string): void => {
      if (followed.has(name)) return;
      followed.add(name);
      void (async () => {
        for await (const record of followLogRecords(this.layout.logPath(run.id, name), {
          tail: query.tail,
          signal: query.signal,
          isDone: finished,
          pollMs: query.pollMs,
        })) {
          while (queue.length >= FOLLOW_QUEUE_MAX && !closed) await room();
          if (closed) break; // the consumer left: stop reading (closes the file)
          queue.push({ instance: name, container, record });
          notify();
        }
      })()
        .catch((e) => {
          failure = e;
        })
        .then(() => {
          settledFollowers++;
          notify();
        });
    };
    const off = this.changes.on('instance', (c) => {
      if (c.projectId === run.projectId && c.runName === run.name && (query.instance === undefined || c.instanceName === query.instance)) {
        startFollower(c.instanceName);
      }
    });
    const offRun = this.changes.on('run', (c) => {
      if (c.projectId === run.projectId && c.runName === run.name) notify();
    });
    query.signal?.addEventListener('abort', notify);
    try {
      for (const name of this.instanceNames(run, query.instance)) startFollower(name);
      for (;;) {
        while (queue.length) {
          const next = queue.shift()!;
          if (queue.length < FOLLOW_QUEUE_MAX / 2) wakeFollowers();
          yield next;
        }
        wakeFollowers();
        if (failure) throw failure;
        if (query.signal?.aborted) return;
        if (settledFollowers === followed.size && finished()) {
          // Every follower has read to the end; the last records may have come meanwhile.
          if (queue.length === 0) return;
          continue;
        }
        if (!signaled) await new Promise<void>((r) => (wake = r));
        signaled = false;
      }
    } finally {
      closed = true;
      wakeFollowers();
      query.signal?.removeEventListener('abort', notify);
      off();
      offRun();
    }
  }

  private instanceNames(run: RunRow, only?: string): string[] {
    const names = this.store.instancesOfRun(run.seq).map((i) => i.name);
    if (only === undefined) return names;
    if (!names.includes(only)) throw CejobsError.notFound('Instance', only);
    return [only];
  }
}
