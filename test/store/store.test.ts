import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withDefaults } from '../../src/domain/defaults.js';
import type { EventType, JobRunStatusDetails } from '../../src/domain/types.js';
import type { EventRow, InstanceRow, JobRow, PendingInstance, ProjectRow, RunRow } from '../../src/store/rows.js';
import Database from 'better-sqlite3';
import { Store } from '../../src/store/store.js';

let dir: string;
let file: string;
let store: Store;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-store-'));
  file = path.join(dir, 'state.db');
  store = Store.open(file);
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Closes and re-opens the store, so a round trip goes through the file. */
function reopen(): void {
  store.close();
  store = Store.open(file);
}

const T0 = Date.UTC(2026, 0, 1);
const project = (over: Partial<ProjectRow> = {}): ProjectRow => ({
  id: 'p-1',
  name: 'proj',
  region: 'local',
  subdomain: 'abc123',
  status: 'active',
  createdMs: T0,
  ...over,
});
const job = (name: string, over: Partial<JobRow> = {}): JobRow => ({
  id: `job-${name}`,
  projectId: 'p-1',
  name,
  createdMs: T0,
  entityTag: '1',
  spec: withDefaults({ run_commands: ['/bin/echo'], run_arguments: ['hi'], scale_array_spec: '0-4' }),
  ...over,
});
const details = (over: Partial<JobRunStatusDetails> = {}): JobRunStatusDetails => ({
  requested: 0,
  pending: 0,
  running: 0,
  succeeded: 0,
  failed: 0,
  unknown: 0,
  indices_details: {},
  ...over,
});
const run = (name: string, over: Partial<Omit<RunRow, 'seq'>> = {}): Omit<RunRow, 'seq'> => ({
  id: `run-${name}`,
  projectId: 'p-1',
  name,
  createdMs: T0,
  spec: withDefaults({ run_commands: ['/bin/true'] }),
  indexCount: 1,
  status: 'pending',
  statusDetailsJson: JSON.stringify(details()),
  deleting: false,
  ...over,
});
const instance = (runSeq: number, index: number, retry: number, over: Partial<InstanceRow> = {}): InstanceRow => ({
  runSeq,
  index,
  retry,
  name: `r-${index}-${retry}`,
  state: 'pending',
  attempt: -1,
  restarts: 0,
  failures: 0,
  cpuMillis: 1000,
  memoryBytes: 4_000_000_000,
  createdMs: T0,
  ...over,
});

describe('Store: projects', () => {
  it('round-trips a project through the file, found by id or by name', () => {
    const p = project();
    store.insertProject(p);
    reopen();
    expect(store.getProject('p-1')).toEqual(p);
    expect(store.getProject('proj')).toEqual(p);
    expect(store.getProject('nope')).toBeUndefined();
  });

  it('lists projects by name', () => {
    store.insertProject(project({ id: 'p-b', name: 'bravo' }));
    store.insertProject(project({ id: 'p-a', name: 'alpha' }));
    store.insertProject(project({ id: 'p-c', name: 'charlie' }));
    expect(store.listProjects().map((p) => p.name)).toEqual(['alpha', 'bravo', 'charlie']);
  });

  it('changes the status of a project', () => {
    store.insertProject(project());
    store.setProjectStatus('p-1', 'deleting');
    expect(store.getProject('p-1')!.status).toBe('deleting');
  });

  it('reads projects through a cache that follows every write and forgets rolled-back ones', () => {
    store.insertProject(project());
    const read = store.getProject('proj')!;
    read.status = 'deleting'; // a copy: not saved, must not leak
    expect(store.getProject('proj')!.status).toBe('active');
    expect(() =>
      store.transaction(() => {
        store.setProjectStatus('p-1', 'deleting');
        expect(store.getProject('p-1')!.status).toBe('deleting');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.getProject('p-1')!.status).toBe('active');
    expect(store.getProject('proj')!.status).toBe('active');
    store.deleteProject('p-1', 1_000);
    expect(store.getProject('proj')).toBeUndefined();
  });

  it('refuses a second project with the same name or id', () => {
    store.insertProject(project());
    expect(() => store.insertProject(project({ id: 'p-2' }))).toThrow(/UNIQUE/);
    expect(() => store.insertProject(project({ name: 'other' }))).toThrow(/UNIQUE/);
  });

  it('deletes a project together with its jobs, and remembers its id', () => {
    store.insertProject(project());
    store.insertJob(job('a'));
    expect(store.deletedProjectIds()).toEqual([]);
    store.deleteProject('p-1', 1_000);
    expect(store.getProject('p-1')).toBeUndefined();
    expect(store.getJob('p-1', 'a')).toBeUndefined();
    expect(store.deletedProjectIds()).toEqual(['p-1']);
  });
});

describe('Store: jobs', () => {
  beforeEach(() => store.insertProject(project()));

  it('round-trips a job with its full runtime spec through the file', () => {
    const j = job('hello', {
      spec: withDefaults({
        image_reference: 'icr.io/codeengine/helloworld',
        run_env_variables: [{ type: 'literal', name: 'A', value: 'ü "quoted" \n newline' }],
        scale_array_spec: '0-2,7',
        scale_retry_limit: 0,
      }),
    });
    store.insertJob(j);
    reopen();
    expect(store.getJob('p-1', 'hello')).toEqual(j);
  });

  it('finds no job of another project or with another name', () => {
    store.insertProject(project({ id: 'p-2', name: 'proj2' }));
    store.insertJob(job('a'));
    expect(store.getJob('p-2', 'a')).toBeUndefined();
    expect(store.getJob('p-1', 'b')).toBeUndefined();
  });

  it('refuses two jobs with the same name in one project but allows it across projects', () => {
    store.insertProject(project({ id: 'p-2', name: 'proj2' }));
    store.insertJob(job('a'));
    expect(() => store.insertJob(job('a', { id: 'job-a2' }))).toThrow(/UNIQUE/);
    expect(() => store.insertJob(job('a', { id: 'job-a3', projectId: 'p-2' }))).not.toThrow();
  });

  it('refuses a job of a project that does not exist', () => {
    expect(() => store.insertJob(job('a', { projectId: 'ghost' }))).toThrow(/FOREIGN KEY/);
  });

  it('updates the spec and entity tag of a job', () => {
    store.insertJob(job('a'));
    const spec = withDefaults({ run_mode: 'daemon', run_commands: ['/bin/sleep'] });
    store.updateJob('p-1', 'a', spec, '2');
    const got = store.getJob('p-1', 'a')!;
    expect(got.spec).toEqual(spec);
    expect(got.entityTag).toBe('2');
    expect(got.createdMs).toBe(T0);
  });

  it('deletes a job', () => {
    store.insertJob(job('a'));
    store.deleteJob('p-1', 'a');
    expect(store.getJob('p-1', 'a')).toBeUndefined();
  });
});

describe('Store: pagination', () => {
  beforeEach(() => store.insertProject(project()));

  const collect = <T extends { name: string }>(list: (start?: string) => { items: T[]; next?: string }) => {
    const pages: string[][] = [];
    let start: string | undefined;
    for (let guard = 0; guard < 100; guard++) {
      const page = list(start);
      pages.push(page.items.map((i) => i.name));
      if (page.next === undefined) return pages;
      start = page.next;
    }
    throw new Error('pagination did not end');
  };

  it('pages 5 jobs with limit 2 into 3 pages with no duplicates and no gaps, by name', () => {
    for (const n of ['echo', 'alpha', 'delta', 'charlie', 'bravo']) store.insertJob(job(n));
    const pages = collect((start) => store.listJobs('p-1', { limit: 2, start }));
    expect(pages).toEqual([['alpha', 'bravo'], ['charlie', 'delta'], ['echo']]);
  });

  it('pages 5 runs with limit 2 into 3 pages with no duplicates and no gaps, by name', () => {
    for (const n of ['r5', 'r3', 'r1', 'r4', 'r2']) store.insertRun(run(n));
    const pages = collect((start) => store.listRuns('p-1', { limit: 2, start }));
    expect(pages).toEqual([['r1', 'r2'], ['r3', 'r4'], ['r5']]);
  });

  const sizes: [number, number, number][] = [
    // rows, limit, pages
    [0, 2, 1],
    [1, 2, 1],
    [2, 2, 1],
    [3, 2, 2],
    [4, 2, 2],
    [5, 2, 3],
    [7, 3, 3],
    [10, 1, 10],
    [6, 100, 1],
  ];
  it.each(sizes)('pages %i jobs with limit %i into %i pages that cover every job once', (rows, limit, pageCount) => {
    const names = Array.from({ length: rows }, (_v, i) => `job-${String(i).padStart(2, '0')}`);
    for (const n of [...names].reverse()) store.insertJob(job(n));
    const pages = collect((start) => store.listJobs('p-1', { limit, start }));
    expect(pages).toHaveLength(pageCount);
    expect(pages.flat()).toEqual(names);
    for (const p of pages) expect(p.length).toBeLessThanOrEqual(limit);
  });

  it('gives no next token on a page that holds the last item', () => {
    for (const n of ['a', 'b']) store.insertJob(job(n));
    expect(store.listJobs('p-1', { limit: 2 }).next).toBeUndefined();
    expect(store.listJobs('p-1', { limit: 1 }).next).toBeDefined();
  });

  it('lists 100 items per page by default', () => {
    for (let i = 0; i < 101; i++) store.insertJob(job(`j${String(i).padStart(3, '0')}`));
    const first = store.listJobs('p-1');
    expect(first.items).toHaveLength(100);
    const second = store.listJobs('p-1', { start: first.next });
    expect(second.items.map((j) => j.name)).toEqual(['j100']);
    expect(second.next).toBeUndefined();
  });

  it('continues correctly when the last item of a page is deleted before the next page is read', () => {
    for (const n of ['a', 'b', 'c', 'd']) store.insertJob(job(n));
    const first = store.listJobs('p-1', { limit: 2 });
    store.deleteJob('p-1', 'b');
    expect(store.listJobs('p-1', { limit: 2, start: first.next }).items.map((j) => j.name)).toEqual(['c', 'd']);
  });

  it('pages names with non-ASCII characters', () => {
    for (const n of ['zeta', 'ähnlich', 'b-1', 'b_2']) store.insertJob(job(n));
    const pages = collect((start) => store.listJobs('p-1', { limit: 1, start }));
    expect(pages.flat().sort()).toEqual(['b-1', 'b_2', 'zeta', 'ähnlich'].sort());
    expect(new Set(pages.flat()).size).toBe(4);
  });

  it('lists only the jobs of the asked project', () => {
    store.insertProject(project({ id: 'p-2', name: 'proj2' }));
    store.insertJob(job('a'));
    store.insertJob(job('b', { id: 'x', projectId: 'p-2' }));
    expect(store.listJobs('p-1').items.map((j) => j.name)).toEqual(['a']);
  });

  it('filters runs by job and leaves out runs being deleted, across pages', () => {
    store.insertRun(run('a1', { jobName: 'a' }));
    store.insertRun(run('a2', { jobName: 'a' }));
    store.insertRun(run('a3', { jobName: 'a' }));
    store.insertRun(run('b1', { jobName: 'b' }));
    store.insertRun(run('solo'));
    const doomed = store.insertRun(run('a0', { jobName: 'a' }));
    store.markRunDeleting(doomed);
    const pages = collect((start) => store.listRuns('p-1', { limit: 2, start, jobName: 'a' }));
    expect(pages).toEqual([['a1', 'a2'], ['a3']]);
    expect(store.listRuns('p-1').items.map((r) => r.name)).toEqual(['a1', 'a2', 'a3', 'b1', 'solo']);
  });
});

describe('Store: job runs', () => {
  beforeEach(() => store.insertProject(project()));

  it('round-trips a run with every field through the file, found by name, seq and id', () => {
    const r = run('full', {
      jobName: 'hello',
      spec: withDefaults({ run_mode: 'daemon', run_commands: ['/bin/sleep'], scale_array_spec: '0-9' }),
      arraySizeOverride: 3,
      indexCount: 10,
      status: 'running',
      statusDetailsJson: JSON.stringify(details({
        running: 1,
        running_indices: '0',
        start_time: new Date(T0).toISOString(),
        indices_details: { '0': { status: 'running', retries: 0, restarts: 2 } },
      })),
      startMs: T0 + 1,
      completionMs: T0 + 2,
      deleting: true,
    });
    const seq = store.insertRun(r);
    reopen();
    const expected: RunRow = { seq, ...r };
    expect(store.getRun('p-1', 'full')).toEqual(expected);
    expect(store.getRunBySeq(seq)).toEqual(expected);
    expect(store.getRunById('run-full')).toEqual(expected);
  });

  it('reads absent optional fields back as undefined', () => {
    const seq = store.insertRun(run('bare'));
    const got = store.getRunBySeq(seq)!;
    for (const k of ['jobName', 'arraySizeOverride', 'startMs', 'completionMs'] as const) {
      expect(got).toHaveProperty(k, undefined);
    }
    expect(got.deleting).toBe(false);
  });

  it('keeps an array size override of 0 and a start time of 0 (falsy values are not lost)', () => {
    const seq = store.insertRun(run('zeros', { arraySizeOverride: 0, startMs: 0, completionMs: 0 }));
    const got = store.getRunBySeq(seq)!;
    expect([got.arraySizeOverride, got.startMs, got.completionMs]).toEqual([0, 0, 0]);
  });

  it('hands out increasing sequence numbers', () => {
    const seqs = ['a', 'b', 'c'].map((n) => store.insertRun(run(n)));
    expect(seqs[1]!).toBeGreaterThan(seqs[0]!);
    expect(seqs[2]!).toBeGreaterThan(seqs[1]!);
  });

  it('finds nothing for an unknown run', () => {
    expect(store.getRun('p-1', 'none')).toBeUndefined();
    expect(store.getRunBySeq(12345)).toBeUndefined();
    expect(store.getRunById('none')).toBeUndefined();
  });

  it('updates the status, details and times of a run, clearing times set to undefined', () => {
    const seq = store.insertRun(run('r', { startMs: 5 }));
    const d = details({ succeeded: 1, succeeded_indices: '0' });
    store.updateRunStatus(seq, { status: 'completed', statusDetailsJson: JSON.stringify(d), startMs: T0, completionMs: T0 + 10 });
    expect(store.getRunBySeq(seq)).toMatchObject({ status: 'completed', statusDetailsJson: JSON.stringify(d), startMs: T0, completionMs: T0 + 10 });
    store.updateRunStatus(seq, { status: 'completed', statusDetailsJson: JSON.stringify(d), startMs: undefined, completionMs: undefined });
    expect(store.getRunBySeq(seq)!.startMs).toBeUndefined();
  });

  it('lists live runs (pending, running or being deleted) in seq order', () => {
    const pending = store.insertRun(run('p', { status: 'pending' }));
    const running = store.insertRun(run('r', { status: 'running' }));
    store.insertRun(run('c', { status: 'completed' }));
    const failedDeleting = store.insertRun(run('f', { status: 'failed' }));
    store.markRunDeleting(failedDeleting);
    expect(store.liveRunSeqs()).toEqual([pending, running, failedDeleting]);
  });

  it('lists finished runs oldest completion first, without runs being deleted', () => {
    const late = store.insertRun(run('late', { status: 'completed', completionMs: 300, jobName: 'j' }));
    const early = store.insertRun(run('early', { status: 'failed', completionMs: 100 }));
    store.insertRun(run('running', { status: 'running' }));
    const gone = store.insertRun(run('gone', { status: 'completed', completionMs: 50 }));
    store.markRunDeleting(gone);
    expect(store.finishedRuns()).toEqual([
      { seq: early, projectId: 'p-1', jobName: undefined, completionMs: 100 },
      { seq: late, projectId: 'p-1', jobName: 'j', completionMs: 300 },
    ]);
  });

  it('finds the runs of a job and of a project, and the last run of a job', () => {
    store.insertProject(project({ id: 'p-2', name: 'proj2' }));
    const a1 = store.insertRun(run('a1', { jobName: 'a', createdMs: 1 }));
    const a2 = store.insertRun(run('a2', { jobName: 'a', createdMs: 2 }));
    const b1 = store.insertRun(run('b1', { jobName: 'b' }));
    const other = store.insertRun(run('a1', { id: 'x', projectId: 'p-2', jobName: 'a' }));
    expect(store.runSeqsOfJob('p-1', 'a').sort()).toEqual([a1, a2].sort());
    expect(store.runSeqsOfProject('p-1').sort()).toEqual([a1, a2, b1].sort());
    expect(store.runSeqsOfProject('p-2')).toEqual([other]);
    expect(store.lastRunOfJob('p-1', 'a')).toEqual({ name: 'a2', createdMs: 2 });
    store.markRunDeleting(a2);
    expect(store.lastRunOfJob('p-1', 'a')).toEqual({ name: 'a1', createdMs: 1 });
    expect(store.lastRunOfJob('p-1', 'zzz')).toBeUndefined();
  });

  it('deletes a run together with its instances and events', () => {
    const seq = store.insertRun(run('r'));
    store.insertInstance(instance(seq, 0, 0));
    store.recordEvent({ runSeq: seq, type: 'Normal', reason: 'Created', message: 'created', timeMs: T0 });
    store.deleteRun(seq);
    expect(store.getRunBySeq(seq)).toBeUndefined();
    expect(store.instancesOfRun(seq)).toEqual([]);
    expect(store.eventsOfRun(seq)).toEqual([]);
  });

  it('commits every write of a transaction or none', () => {
    expect(() =>
      store.transaction(() => {
        store.insertRun(run('first'));
        store.insertRun(run('first')); // duplicate name: fails
      }),
    ).toThrow(/UNIQUE/);
    expect(store.getRun('p-1', 'first')).toBeUndefined();
    const seq = store.transaction(() => store.insertRun(run('ok')));
    expect(store.getRunBySeq(seq)!.name).toBe('ok');
  });
});

describe('Store: instances', () => {
  let seq: number;
  beforeEach(() => {
    store.insertProject(project());
    seq = store.insertRun(run('r', { indexCount: 3 }));
  });

  it('round-trips a new instance as inserted', () => {
    const i = instance(seq, 1, 2, { state: 'backoff', failures: 2, notBeforeMs: T0 + 4000, reason: 'OOMKilled', message: 'm' });
    store.insertInstance(i);
    reopen();
    expect(store.getInstance(seq, 1, 2)).toEqual(i);
    expect(store.getInstanceByName(seq, 'r-1-2')).toEqual(i);
  });

  it('round-trips every mutable field after a save, including the handle and observed exit', () => {
    store.insertInstance(instance(seq, 0, 0));
    const saved: InstanceRow = instance(seq, 0, 0, {
      state: 'failed',
      attempt: 3,
      restarts: 2,
      failures: 4,
      firstStartedMs: T0 + 1,
      startedMs: T0 + 2,
      finishedMs: T0 + 3,
      notBeforeMs: T0 + 4,
      exitCode: 137,
      reason: 'ContainerExitedCode137',
      message: 'was killed by SIGKILL',
      stopReason: 'deadline',
      driver: 'process',
      handle: { driver: 'process', version: 1, data: { pid: 42, nested: { a: [1, 2] } } },
      observedExit: {
        attemptId: 'r-0-0.3',
        outcome: { kind: 'exited', exitCode: null, signal: 'SIGKILL' },
        startedAt: T0 + 2,
        finishedAt: T0 + 3,
      },
    });
    store.saveInstance(saved);
    reopen();
    expect(store.getInstance(seq, 0, 0)).toEqual(saved);
  });

  it('clears optional fields that a save leaves undefined', () => {
    store.insertInstance(instance(seq, 0, 0));
    store.saveInstance(instance(seq, 0, 0, { exitCode: 1, handle: { driver: 'd', version: 1, data: {} }, stopReason: 'delete' }));
    store.saveInstance(instance(seq, 0, 0));
    const got = store.getInstance(seq, 0, 0)!;
    expect([got.exitCode, got.handle, got.stopReason]).toEqual([undefined, undefined, undefined]);
  });

  it('keeps an exit code of 0', () => {
    store.insertInstance(instance(seq, 0, 0));
    store.saveInstance(instance(seq, 0, 0, { state: 'succeeded', exitCode: 0 }));
    expect(store.getInstance(seq, 0, 0)!.exitCode).toBe(0);
  });

  it('refuses two instances with the same run, index and retry', () => {
    store.insertInstance(instance(seq, 0, 0));
    expect(() => store.insertInstance(instance(seq, 0, 0, { name: 'other' }))).toThrow(/UNIQUE|PRIMARY/);
  });

  it('refuses an instance of a run that does not exist', () => {
    expect(() => store.insertInstance(instance(seq + 100, 0, 0))).toThrow(/FOREIGN KEY/);
  });

  it('lists the instances of a run by index then retry', () => {
    for (const [i, r] of [[2, 0], [0, 1], [1, 0], [0, 0], [0, 2]] as const) store.insertInstance(instance(seq, i, r));
    expect(store.instancesOfRun(seq).map((x) => `${x.index}/${x.retry}`)).toEqual(['0/0', '0/1', '0/2', '1/0', '2/0']);
  });

  it('finds instances in given states across runs in FIFO order, honouring the limit', () => {
    const seq2 = store.insertRun(run('r2'));
    store.insertInstance(instance(seq2, 0, 0, { state: 'pending' }));
    store.insertInstance(instance(seq, 1, 0, { state: 'pending' }));
    store.insertInstance(instance(seq, 0, 0, { state: 'running' }));
    store.insertInstance(instance(seq, 2, 0, { state: 'succeeded' }));
    store.insertInstance(instance(seq, 0, 1, { state: 'backoff' }));
    const found = store.instancesInStates(['pending', 'backoff']).map((x) => [x.runSeq, x.index, x.retry]);
    expect(found).toEqual([[seq, 0, 1], [seq, 1, 0], [seq2, 0, 0]]);
    expect(store.instancesInStates(['pending', 'backoff'], 1)).toHaveLength(1);
    expect(store.instancesInStates(['stopped'])).toEqual([]);
  });

  it('sums the cpu and memory of instances in the given states, 0 when none', () => {
    store.insertInstance(instance(seq, 0, 0, { state: 'running', cpuMillis: 500, memoryBytes: 100 }));
    store.insertInstance(instance(seq, 1, 0, { state: 'starting', cpuMillis: 250, memoryBytes: 50 }));
    store.insertInstance(instance(seq, 2, 0, { state: 'pending', cpuMillis: 9999, memoryBytes: 9999 }));
    expect(store.usedCapacity(['starting', 'running', 'stopping'])).toEqual({ cpuMillis: 750, memoryBytes: 150 });
    expect(store.usedCapacity(['failed'])).toEqual({ cpuMillis: 0, memoryBytes: 0 });
  });
});

describe('Store: the instance cache (what a sync re-reads comes from memory)', () => {
  let seq: number;
  beforeEach(() => {
    store.insertProject(project());
    seq = store.insertRun(run('cached'));
    for (const i of [2, 0, 1]) store.insertInstance(instance(seq, i, 0));
  });

  it('returns copies, in index and retry order, that follow inserts and saves', () => {
    const first = store.instancesOfRun(seq);
    expect(first.map((i) => i.index)).toEqual([0, 1, 2]);
    first[0]!.state = 'running'; // not saved: must not leak into the next read
    expect(store.instancesOfRun(seq)[0]!.state).toBe('pending');
    store.saveInstance({ ...first[1]!, state: 'running', observedExit: undefined });
    store.insertInstance(instance(seq, 1, 1));
    const again = store.instancesOfRun(seq);
    expect(again.map((i) => `${i.index}.${i.retry}:${i.state}`)).toEqual(['0.0:pending', '1.0:running', '1.1:pending', '2.0:pending']);
    reopen(); // the same as the database says
    expect(store.instancesOfRun(seq).map((i) => `${i.index}.${i.retry}:${i.state}`)).toEqual(['0.0:pending', '1.0:running', '1.1:pending', '2.0:pending']);
  });

  it('forgets writes of a transaction that rolled back', () => {
    store.instancesOfRun(seq);
    expect(() =>
      store.transaction(() => {
        store.saveInstance({ ...instance(seq, 0, 0), state: 'running' });
        store.insertInstance(instance(seq, 0, 1));
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.instancesOfRun(seq).map((i) => `${i.index}.${i.retry}:${i.state}`)).toEqual(['0.0:pending', '1.0:pending', '2.0:pending']);
  });

  it('forgets a deleted run (its seq may be handed out again)', () => {
    store.instancesOfRun(seq);
    store.deleteRun(seq);
    expect(store.instancesOfRun(seq)).toEqual([]);
  });
});

describe('Store: pending instances for admission', () => {
  it('pages pending instances in FIFO order (run, index, retry) after a cursor', () => {
    store.insertProject(project());
    const a = store.insertRun(run('a'));
    const b = store.insertRun(run('b'));
    store.insertInstance(instance(b, 0, 0));
    store.insertInstance(instance(a, 2, 0));
    store.insertInstance(instance(a, 0, 0, { state: 'failed' }));
    store.insertInstance(instance(a, 0, 1, { state: 'failed' }));
    store.insertInstance(instance(a, 0, 2)); // a later retry of index 0
    store.insertInstance(instance(a, 1, 0, { state: 'running' }));
    const key = (i: PendingInstance) => [i.runSeq, i.index, i.retry];
    expect(store.pendingInstancesAfter([-1, -1, -1], 10).map(key)).toEqual([[a, 0, 2], [a, 2, 0], [b, 0, 0]]);
    const first = store.pendingInstancesAfter([-1, -1, -1], 1);
    expect(first).toEqual([{ runSeq: a, index: 0, retry: 2, cpuMillis: 1000, memoryBytes: 4_000_000_000 }]);
    expect(store.pendingInstancesAfter([a, 0, 2], 1).map(key)).toEqual([[a, 2, 0]]);
    expect(store.pendingInstancesAfter([a, 2, 0], 5).map(key)).toEqual([[b, 0, 0]]);
    expect(store.pendingInstancesAfter([b, 0, 0], 5)).toEqual([]);
  });
});

describe('Store: pending instances from memory agree with the database', () => {
  it('after random inserts, saves, rolled-back transactions and deleted runs', () => {
    store.insertProject(project());
    const seqs = [store.insertRun(run('r0')), store.insertRun(run('r1')), store.insertRun(run('r2'))];
    const states: InstanceRow['state'][] = ['pending', 'starting', 'running', 'succeeded', 'failed'];
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const known: InstanceRow[] = [];
    const key = (i: PendingInstance) => `${i.runSeq}/${i.index}/${i.retry}:${i.cpuMillis}`;
    const fromMemory = () => store.pendingInstancesAfter([-1, -1, -1], 1e9).map(key);
    const reader = new Database(file, { readonly: true });
    const fromDisk = () =>
      (reader.prepare(`SELECT run_seq, idx, retry, cpu_millis FROM instances WHERE state = 'pending' ORDER BY run_seq, idx, retry`).all() as {
        run_seq: number; idx: number; retry: number; cpu_millis: number;
      }[]).map((r) => `${r.run_seq}/${r.idx}/${r.retry}:${r.cpu_millis}`);
    expect(fromMemory()).toEqual([]); // loaded (empty) from here on
    for (let step = 0; step < 400; step++) {
      const op = rand(10);
      if (op < 4 || known.length === 0) {
        const seqOf = seqs[rand(seqs.length)]!;
        const index = rand(30);
        const retry = known.filter((k) => k.runSeq === seqOf && k.index === index).length;
        const row = instance(seqOf, index, retry, { state: states[rand(2)]!, cpuMillis: 100 + rand(5) });
        store.insertInstance(row);
        known.push(row);
      } else if (op < 8) {
        const row = known[rand(known.length)]!;
        row.state = states[rand(states.length)]!;
        store.saveInstance({ ...row });
      } else if (op < 9) {
        const row = known[rand(known.length)]!;
        expect(() =>
          store.transaction(() => {
            store.saveInstance({ ...row, state: row.state === 'pending' ? 'running' : 'pending' });
            throw new Error('rolled back');
          }),
        ).toThrow('rolled back');
      } else {
        const gone = seqs.splice(rand(seqs.length), 1)[0]!;
        store.deleteRun(gone);
        known.splice(0, known.length, ...known.filter((k) => k.runSeq !== gone));
        seqs.push(store.insertRun(run(`r${step}`)));
      }
      expect(fromMemory(), `step ${step}`).toEqual(fromDisk());
    }
    reader.close();
    const expected = fromMemory();
    expect(expected.length).toBeGreaterThan(0);
    reopen(); // a new store reads the database
    expect(store.pendingInstancesAfter([-1, -1, -1], 1e9).map(key)).toEqual(expected);
  });
});

describe('Store: one instance read through the cache', () => {
  let seq: number;
  beforeEach(() => {
    store.insertProject(project());
    seq = store.insertRun(run('one'));
    for (const i of [0, 1]) store.insertInstance(instance(seq, i, 0));
  });

  it('reads the same row whether its run is cached or not, as a copy', () => {
    const fromDb = store.getInstance(seq, 1, 0);
    store.instancesOfRun(seq); // the run is cached from now on
    const fromCache = store.getInstance(seq, 1, 0)!;
    expect(fromCache).toEqual(fromDb);
    fromCache.state = 'running'; // not saved: must not leak
    expect(store.getInstance(seq, 1, 0)!.state).toBe('pending');
    expect(store.getInstance(seq, 7, 0)).toBeUndefined();
    store.saveInstance({ ...fromCache, state: 'starting', attempt: 0 });
    expect(store.getInstance(seq, 1, 0)).toMatchObject({ state: 'starting', attempt: 0 });
  });

  it('forgets a save that rolled back', () => {
    store.instancesOfRun(seq);
    expect(() =>
      store.transaction(() => {
        store.saveInstance({ ...instance(seq, 0, 0), state: 'running' });
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.getInstance(seq, 0, 0)!.state).toBe('pending');
  });
});

describe('Store: the run cache (what every pass re-reads comes from memory)', () => {
  let seq: number;
  beforeEach(() => {
    store.insertProject(project());
    seq = store.insertRun(run('cached'));
  });

  it('follows status updates and deletion marks, and hands out copies', () => {
    const first = store.getRunBySeq(seq)!;
    first.status = 'failed'; // not saved: must not leak
    expect(store.getRunBySeq(seq)!.status).toBe('pending');
    store.updateRunStatus(seq, { status: 'running', statusDetailsJson: '{"running":1}', startMs: T0 + 5, completionMs: undefined });
    store.markRunDeleting(seq);
    const expected = { ...first, status: 'running', statusDetailsJson: '{"running":1}', startMs: T0 + 5, completionMs: undefined, deleting: true };
    expect(store.getRunBySeq(seq)).toEqual(expected);
    reopen(); // the same as the database says
    expect(store.getRunBySeq(seq)).toEqual(expected);
  });

  it('freezes the spec it shares between copies', () => {
    const r = store.getRunBySeq(seq)!;
    expect(() => r.spec.run_commands.push('x')).toThrow(TypeError);
    expect(() => ((r.spec as { run_mode: string }).run_mode = 'daemon')).toThrow(TypeError);
  });

  it('forgets writes of a transaction that rolled back', () => {
    store.getRunBySeq(seq);
    expect(() =>
      store.transaction(() => {
        store.updateRunStatus(seq, { status: 'running', statusDetailsJson: '{}', startMs: T0, completionMs: undefined });
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.getRunBySeq(seq)!.status).toBe('pending');
  });

  it('forgets a deleted run, by seq and by id', () => {
    expect(store.runSeqById('run-cached')).toBe(seq);
    store.getRunBySeq(seq);
    store.deleteRun(seq);
    expect(store.getRunBySeq(seq)).toBeUndefined();
    expect(store.runSeqById('run-cached')).toBeUndefined();
  });
});

describe('Store: events', () => {
  let seq: number;
  beforeEach(() => {
    store.insertProject(project());
    seq = store.insertRun(run('r'));
  });
  const ev = (over: Partial<Omit<EventRow, 'id' | 'count' | 'firstMs' | 'lastMs'>> & { timeMs: number }) => ({
    runSeq: seq,
    instanceName: 'r-0-0' as string | undefined,
    type: 'Warning' as EventType,
    reason: 'BackOff',
    message: 'restarting',
    ...over,
  });

  it('round-trips an event through the file', () => {
    store.recordEvent(ev({ timeMs: T0 }));
    reopen();
    const [e, ...rest] = store.eventsOfRun(seq);
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ runSeq: seq, instanceName: 'r-0-0', type: 'Warning', reason: 'BackOff', message: 'restarting', count: 1, firstMs: T0, lastMs: T0 });
    expect(typeof e!.id).toBe('number');
  });

  it('aggregates the same event of the same object: the count grows and the last time moves', () => {
    store.recordEvent(ev({ timeMs: T0 }));
    store.recordEvent(ev({ timeMs: T0 + 10 }));
    store.recordEvent(ev({ timeMs: T0 + 20 }));
    const events = store.eventsOfRun(seq);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ count: 3, firstMs: T0, lastMs: T0 + 20 });
  });

  const differs: [string, Partial<ReturnType<typeof ev>>][] = [
    ['message', { message: 'something else' }],
    ['reason', { reason: 'Other' }],
    ['type', { type: 'Normal' }],
    ['instance', { instanceName: 'r-1-0' }],
    ['object (run instead of instance)', { instanceName: undefined }],
  ];
  it.each(differs)('records a new row when the %s differs', (_w, over) => {
    store.recordEvent(ev({ timeMs: T0 }));
    store.recordEvent({ ...ev({ timeMs: T0 + 5 }), ...over });
    const events = store.eventsOfRun(seq);
    expect(events).toHaveLength(2);
    expect(events.map((e) => e.count)).toEqual([1, 1]);
  });

  it('aggregates run-level events (no instance) with each other', () => {
    store.recordEvent(ev({ instanceName: undefined, timeMs: T0 }));
    store.recordEvent(ev({ instanceName: undefined, timeMs: T0 + 1 }));
    const events = store.eventsOfRun(seq);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ instanceName: undefined, count: 2 });
  });

  it('does not aggregate events of different runs', () => {
    const other = store.insertRun(run('other'));
    store.recordEvent(ev({ timeMs: T0 }));
    store.recordEvent(ev({ runSeq: other, timeMs: T0 }));
    expect(store.eventsOfRun(seq)[0]!.count).toBe(1);
    expect(store.eventsOfRun(other)[0]!.count).toBe(1);
  });

  it('orders events by the time they last happened, so an aggregated event moves to the end', () => {
    store.recordEvent(ev({ message: 'a', timeMs: T0 }));
    store.recordEvent(ev({ message: 'b', timeMs: T0 + 1 }));
    store.recordEvent(ev({ message: 'a', timeMs: T0 + 2 }));
    expect(store.eventsOfRun(seq).map((e) => [e.message, e.count])).toEqual([['b', 1], ['a', 2]]);
  });

  it('filters the events of one instance', () => {
    store.recordEvent(ev({ instanceName: 'r-0-0', timeMs: T0 }));
    store.recordEvent(ev({ instanceName: 'r-1-0', timeMs: T0 }));
    store.recordEvent(ev({ instanceName: undefined, timeMs: T0 }));
    expect(store.eventsOfRun(seq, 'r-1-0').map((e) => e.instanceName)).toEqual(['r-1-0']);
    expect(store.eventsOfRun(seq)).toHaveLength(3);
  });
});
