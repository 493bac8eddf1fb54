/**
 * The write batch (engine/write-batch.ts): the facts of one event-loop turn share one commit.
 * Real SQLite files; a second connection shows what is committed (WAL readers see only
 * committed transactions).
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withDefaults } from '../../src/domain/defaults.js';
import type { EngineContext } from '../../src/engine/context.js';
import type { InstanceRow } from '../../src/store/rows.js';
import { Store } from '../../src/store/store.js';
import { WriteBatch } from '../../src/engine/write-batch.js';
import { makeHarness, type Harness } from './harness.js';

describe('WriteBatch', () => {
  let dir: string;
  let file: string;
  let store: Store;
  let reader: Database.Database;
  let seq: number;
  let batch: WriteBatch;
  let warnings: string[];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-batch-'));
    file = path.join(dir, 'state.db');
    store = Store.open(file);
    store.insertProject({ id: 'p', name: 'p', region: 'local', subdomain: 's', status: 'active', createdMs: 0 });
    seq = store.insertRun({
      id: 'r',
      projectId: 'p',
      name: 'r',
      createdMs: 0,
      spec: withDefaults({ run_commands: ['/bin/true'], scale_array_spec: '0-3' }),
      indexCount: 4,
      status: 'running',
      statusDetailsJson: '{}',
      deleting: false,
    });
    for (let index = 0; index < 4; index++) store.insertInstance(instance(index));
    reader = new Database(file, { readonly: true });
    warnings = [];
    const ctx = { warn: (m: string) => warnings.push(m), driver: {}, queue: { add() {} } } as unknown as EngineContext;
    batch = new WriteBatch(store, (effects) => effects.run(ctx));
  });
  afterEach(() => {
    reader.close();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const instance = (index: number): InstanceRow => ({
    runSeq: seq,
    index,
    retry: 0,
    name: `r-${index}-0`,
    state: 'pending',
    attempt: -1,
    restarts: 0,
    failures: 0,
    cpuMillis: 125,
    memoryBytes: 1,
    createdMs: 0,
  });
  const committedState = (index: number): string =>
    (reader.prepare('SELECT state FROM instances WHERE run_seq = ? AND idx = ?').get(seq, index) as { state: string }).state;
  const start = (index: number) => () => {
    const inst = store.getInstance(seq, index, 0)!;
    inst.state = 'starting';
    inst.attempt = 0;
    store.saveInstance(inst);
    return index;
  };

  it('commits the writes of one turn together, in order, and resolves each with its result', async () => {
    const seenByReader: string[] = [];
    const results = Promise.all([
      batch.write(start(0)),
      batch.write(start(1)),
      batch.write(() => {
        // inside the batch: the earlier writes are there for this write, not yet for others
        seenByReader.push(committedState(0), committedState(1));
        expect(store.getInstance(seq, 0, 0)!.state).toBe('starting');
        return start(2)();
      }),
    ]);
    expect(committedState(0)).toBe('pending'); // nothing runs before the turn ends
    expect(await results).toEqual([0, 1, 2]);
    expect(seenByReader).toEqual(['pending', 'pending']);
    expect([0, 1, 2, 3].map(committedState)).toEqual(['starting', 'starting', 'starting', 'pending']);
    await batch.idle();
    expect(batch.isIdle()).toBe(true);
  });

  it('notifies only after the commit, so a listener reads what it is told about', async () => {
    const seen: string[] = [];
    await batch.write((effects) => {
      start(3)();
      effects.notify(() => seen.push(committedState(3)));
    });
    expect(seen).toEqual(['starting']);
  });

  it('a write that throws fails alone: the batch is retried write by write, its effects are dropped', async () => {
    const notified: number[] = [];
    const writes = [0, 1, 2].map((index) =>
      batch.write((effects) => {
        start(index)();
        effects.notify(() => notified.push(index));
        if (index === 1) throw new Error('boom');
        return index;
      }),
    );
    const settled = await Promise.allSettled(writes);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason.message).toBe('boom');
    expect([0, 1, 2].map(committedState)).toEqual(['starting', 'pending', 'starting']);
    expect(notified).toEqual([0, 2]);
    // the store's instance cache holds no value of the rolled-back write
    expect(store.instancesOfRun(seq).map((i) => i.state)).toEqual(['starting', 'pending', 'starting', 'pending']);
  });

  it('idle() commits what is queued at once and waits for the effects', async () => {
    const w = batch.write(start(0));
    expect(batch.isIdle()).toBe(false);
    await batch.idle();
    expect(committedState(0)).toBe('starting');
    expect(await w).toBe(0);
  });

  it('a closed store (the process is going away) commits nothing and rejects every write', async () => {
    const w = batch.write(start(0));
    store.close();
    await expect(w).rejects.toThrow(/not open/);
    expect(committedState(0)).toBe('pending');
    store = Store.open(file); // for afterEach
  });
});

describe('passes commit with the facts of their turn', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('an exit and the admission it makes possible are one commit', async () => {
    h = await makeHarness({ driver: { capacity: { cpuMillis: 1000, memoryBytes: 32e9 }, script: () => ({ runForMs: 100, exitCode: 0 }) } });
    h.engine.submitRun('default', { name: 'one', run_commands: ['x'], scale_array_spec: '0-1', scale_cpu_limit: '1', scale_memory_limit: '4G' });
    await h.tick();
    const reader = new Database(path.join(h.home, 'cejobs.db'), { readonly: true });
    const read = reader.prepare('SELECT state, observed_exit IS NOT NULL AS exited FROM instances ORDER BY idx');
    const committed: string[] = []; // (index 0, index 1) as a reader sees them after each commit
    const store = h.engine.store;
    const transaction = store.transaction.bind(store);
    store.transaction = <T>(fn: () => T): T => {
      const result = transaction(fn);
      committed.push((read.all() as { state: string; exited: number }[]).map((r) => r.state + (r.exited ? '+exit' : '')).join(','));
      return result;
    };
    expect((read.all() as { state: string }[]).map((r) => r.state)).toEqual(['running', 'pending']);
    await h.tick(100);
    reader.close();
    expect(committed[0]).toBe('running+exit,starting');
    expect(committed).not.toContain('running+exit,pending');
    expect(h.engine.getRun('default', 'one').status).toBe('running');
  });
});

describe('a crash before a batch is committed', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('loses no exit: the driver still holds them, the next engine records and decides them, nothing starts twice', async () => {
    h = await makeHarness({ driver: { script: () => ({ runForMs: 100, exitCode: 0 }) } });
    h.engine.submitRun('default', { name: 'c', run_commands: ['x'], scale_array_spec: '0-3', scale_cpu_limit: '0.125', scale_memory_limit: '0.25G' });
    await h.tick();
    expect(h.runtime.running()).toHaveLength(4);
    const db = path.join(h.home, 'cejobs.db');

    h.clock.advance(100); // the four exits arrive in this turn; their batch is not committed yet
    h.engine.store.close(); // the process dies here: nothing more reaches the database
    await h.engine.close(); // (what is left of the dead engine commits and releases nothing)

    const reader = new Database(db, { readonly: true });
    const rows = reader.prepare('SELECT state, observed_exit FROM instances').all() as { state: string; observed_exit: string | null }[];
    reader.close();
    expect(rows).toEqual(Array.from({ length: 4 }, () => ({ state: 'running', observed_exit: null })));
    expect([...h.runtime.attempts.values()].filter((a) => a.exit)).toHaveLength(4); // not released

    await h.restart();
    const r = h.engine.getRun('default', 'c');
    expect(r.status).toBe('completed');
    expect(r.status_details.succeeded).toBe(4);
    expect(h.runtime.starts).toHaveLength(4);
    expect(h.runtime.attempts.size).toBe(0); // released once recorded
    const events = h.engine.listEvents('default', 'c').map((e) => e.reason);
    expect(events.filter((e) => e === 'Started')).toHaveLength(4);
    expect(events.filter((e) => e === 'Succeeded')).toHaveLength(4);
  });
});
