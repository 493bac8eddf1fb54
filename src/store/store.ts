/**
 * The store: repositories over one SQLite database. All methods are synchronous (better-sqlite3);
 * `transaction(fn)` groups several writes into one atomic, durable commit. Callers never see SQL.
 */
import { BuildStore } from './build-store.js';
import type { Db } from './database.js';
import { json, opt, ProjectRows, Statements, taggedColumns, taggedRow, type ListOptions, type Raw } from './sql.js';
import { openDatabase, type OpenOptions } from './database.js';
import type { EventRow, InstanceRow, JobRow, Page, PendingInstance, ProjectRow, RunRow } from './rows.js';
import type { InstanceState } from '../domain/types.js';
import { ConfigStore } from './config-store.js';
import { InstanceCache } from './instance-cache.js';
import { PendingQueue } from './pending-queue.js';
import { RunCache } from './run-cache.js';

function toProject(r: Raw): ProjectRow {
  return {
    id: r.id as string,
    name: r.name as string,
    region: r.region as string,
    subdomain: r.subdomain as string,
    status: r.status as ProjectRow['status'],
    createdMs: r.created_ms as number,
  };
}

function toJob(r: Raw): JobRow {
  return { ...taggedRow(r), spec: JSON.parse(r.spec as string) };
}

function toRun(r: Raw): RunRow {
  return {
    seq: r.seq as number,
    id: r.id as string,
    projectId: r.project_id as string,
    name: r.name as string,
    jobName: opt(r.job_name),
    createdMs: r.created_ms as number,
    spec: JSON.parse(r.spec as string),
    arraySizeOverride: opt(r.array_size_override),
    indexCount: r.index_count as number,
    status: r.status as RunRow['status'],
    statusDetailsJson: r.status_details as string,
    startMs: opt(r.start_ms),
    completionMs: opt(r.completion_ms),
    deleting: r.deleting === 1,
  };
}

function toInstance(r: Raw): InstanceRow {
  return {
    runSeq: r.run_seq as number,
    index: r.idx as number,
    retry: r.retry as number,
    name: r.name as string,
    state: r.state as InstanceState,
    attempt: r.attempt as number,
    restarts: r.restarts as number,
    failures: r.failures as number,
    cpuMillis: r.cpu_millis as number,
    memoryBytes: r.memory_bytes as number,
    createdMs: r.created_ms as number,
    firstStartedMs: opt(r.first_started_ms),
    startedMs: opt(r.started_ms),
    finishedMs: opt(r.finished_ms),
    notBeforeMs: opt(r.not_before_ms),
    exitCode: opt(r.exit_code),
    reason: opt(r.reason),
    message: opt(r.message),
    stopReason: opt(r.stop_reason),
    driver: opt(r.driver),
    handle: json(r.handle),
    observedExit: json(r.observed_exit),
  };
}

function toEvent(r: Raw): EventRow {
  return {
    id: r.id as number,
    runSeq: r.run_seq as number,
    instanceName: opt(r.instance_name),
    type: r.type as EventRow['type'],
    reason: r.reason as string,
    message: r.message as string,
    count: r.count as number,
    firstMs: r.first_ms as number,
    lastMs: r.last_ms as number,
  };
}

export type { ListOptions };

export class Store {
  readonly db: Db;
  /** Config maps and secrets (config-store.ts). */
  readonly config: ConfigStore;
  /** Builds and build runs (build-store.ts). */
  readonly builds: BuildStore;

  constructor(db: Db) {
    this.db = db;
    this.statements = new Statements(db);
    this.jobs = new ProjectRows(this.statements, 'jobs', toJob);
    this.runs = new ProjectRows(this.statements, 'job_runs', toRun);
    this.config = new ConfigStore(db);
    this.builds = new BuildStore(db);
  }

  static open(file: string, options?: OpenOptions): Store {
    return new Store(openDatabase(file, options));
  }

  private readonly statements: Statements;
  private readonly jobs: ProjectRows<JobRow>;
  private readonly runs: ProjectRows<RunRow>;
  private readonly instanceCache = new InstanceCache();
  private readonly pending = new PendingQueue();
  private readonly runCache = new RunCache();
  /** Projects by id and by name (few, read by every admission pass); cleared by every project write. */
  private readonly projectCache = new Map<string, ProjectRow>();

  /** A prepared statement, compiled once per SQL text. */
  private q(sql: string) {
    return this.statements.get(sql);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  transaction<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn)();
    } catch (e) {
      // they may hold writes SQLite just rolled back
      this.instanceCache.clear();
      this.pending.clear();
      this.runCache.clear();
      this.projectCache.clear();
      throw e;
    }
  }

  // ── projects ────────────────────────────────────────────────────────────────────────────
  insertProject(p: ProjectRow): void {
    this.q('INSERT INTO projects (id, name, region, subdomain, status, created_ms) VALUES (?, ?, ?, ?, ?, ?)')
      .run(p.id, p.name, p.region, p.subdomain, p.status, p.createdMs);
    this.projectCache.clear();
  }

  getProject(idOrName: string): ProjectRow | undefined {
    const cached = this.projectCache.get(idOrName);
    if (cached) return { ...cached };
    const r = this.q('SELECT * FROM projects WHERE id = ? OR name = ?').get(idOrName, idOrName) as Raw | undefined;
    if (!r) return undefined;
    const row = toProject(r);
    this.projectCache.set(idOrName, { ...row });
    return row;
  }

  listProjects(): ProjectRow[] {
    return (this.q('SELECT * FROM projects ORDER BY name').all() as Raw[]).map(toProject);
  }

  /**
   * Removes a project with its jobs, config maps and secrets (its runs are purged before), and
   * remembers its id (`deletedProjectIds`).
   */
  deleteProject(id: string, nowMs: number): void {
    this.config.deleteAllOfProject(id);
    this.builds.deleteAllOfProject(id);
    this.jobs.deleteAllOfProject(id);
    this.q('DELETE FROM projects WHERE id = ?').run(id);
    this.q('INSERT OR REPLACE INTO deleted_projects (id, deleted_ms) VALUES (?, ?)').run(id, nowMs);
    this.projectCache.clear();
  }

  /** Ids of the projects deleted from this state home: their built images are still its own. */
  deletedProjectIds(): string[] {
    return (this.q('SELECT id FROM deleted_projects ORDER BY deleted_ms').all() as { id: string }[]).map((r) => r.id);
  }

  setProjectStatus(id: string, status: ProjectRow['status']): void {
    this.q('UPDATE projects SET status = ? WHERE id = ?').run(status, id);
    this.projectCache.clear();
  }

  // ── jobs ────────────────────────────────────────────────────────────────────────────────
  insertJob(j: JobRow): void {
    this.jobs.insert({ ...taggedColumns(j), spec: JSON.stringify(j.spec) });
  }

  getJob(projectId: string, name: string): JobRow | undefined {
    return this.jobs.get(projectId, name);
  }

  listJobs(projectId: string, options: ListOptions = {}): Page<JobRow> {
    return this.jobs.page(projectId, options);
  }

  updateJob(projectId: string, name: string, spec: JobRow['spec'], entityTag: string): void {
    this.jobs.update(projectId, name, { spec: JSON.stringify(spec), entity_tag: entityTag });
  }

  deleteJob(projectId: string, name: string): void {
    this.jobs.delete(projectId, name);
  }

  // ── job runs ────────────────────────────────────────────────────────────────────────────
  insertRun(r: Omit<RunRow, 'seq'>): number {
    const info = this.q(
        `INSERT INTO job_runs (id, project_id, name, job_name, created_ms, spec, array_size_override, index_count,
           status, status_details, start_ms, completion_ms, deleting)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.id,
        r.projectId,
        r.name,
        r.jobName ?? null,
        r.createdMs,
        JSON.stringify(r.spec),
        r.arraySizeOverride ?? null,
        r.indexCount,
        r.status,
        r.statusDetailsJson,
        r.startMs ?? null,
        r.completionMs ?? null,
        r.deleting ? 1 : 0,
      );
    return Number(info.lastInsertRowid);
  }

  getRun(projectId: string, name: string): RunRow | undefined {
    return this.runs.get(projectId, name);
  }

  /** A run by sequence number (the engine's read: cached, see run-cache.ts; its spec is frozen). */
  getRunBySeq(seq: number): RunRow | undefined {
    const cached = this.runCache.get(seq);
    if (cached) return cached;
    const r = this.q('SELECT * FROM job_runs WHERE seq = ?').get(seq) as Raw | undefined;
    if (!r) return undefined;
    const row = toRun(r);
    this.runCache.fill(row);
    return row;
  }

  /** The sequence number of a run, by id (cheap: no document is parsed; cached). */
  runSeqById(id: string): number | undefined {
    const known = this.runCache.seqOf(id);
    if (known !== undefined) return known;
    const r = this.q('SELECT seq FROM job_runs WHERE id = ?').get(id) as { seq: number } | undefined;
    if (r) this.runCache.rememberSeq(id, r.seq);
    return r?.seq;
  }

  getRunById(id: string): RunRow | undefined {
    const r = this.q('SELECT * FROM job_runs WHERE id = ?').get(id) as Raw | undefined;
    return r && toRun(r);
  }

  /** Runs of a project (not being deleted), by name; `jobName` filters. */
  listRuns(projectId: string, options: ListOptions & { jobName?: string } = {}): Page<RunRow> {
    return this.runs.page(projectId, options, { job_name: options.jobName, deleting: 0 });
  }

  /** Sequence numbers of runs that are not terminal or are being deleted (the engine's work). */
  liveRunSeqs(): number[] {
    return (
      this.q(`SELECT seq FROM job_runs WHERE deleting = 1 OR status IN ('pending', 'running') ORDER BY seq`)
        .all() as { seq: number }[]
    ).map((r) => r.seq);
  }

  /** Terminal runs, oldest completion first, for retention. */
  finishedRuns(): { seq: number; projectId: string; jobName?: string; completionMs: number }[] {
    return (
      this.q(
          `SELECT seq, project_id, job_name, completion_ms FROM job_runs
           WHERE deleting = 0 AND status IN ('completed', 'failed') ORDER BY completion_ms, seq`,
        )
        .all() as Raw[]
    ).map((r) => ({
      seq: r.seq as number,
      projectId: r.project_id as string,
      jobName: opt<string>(r.job_name),
      completionMs: (r.completion_ms as number | null) ?? 0,
    }));
  }

  updateRunStatus(seq: number, fields: Pick<RunRow, 'status' | 'statusDetailsJson' | 'startMs' | 'completionMs'>): void {
    this.q('UPDATE job_runs SET status = ?, status_details = ?, start_ms = ?, completion_ms = ? WHERE seq = ?')
      .run(fields.status, fields.statusDetailsJson, fields.startMs ?? null, fields.completionMs ?? null, seq);
    const { status, statusDetailsJson, startMs, completionMs } = fields;
    this.runCache.update(seq, { status, statusDetailsJson, startMs, completionMs });
  }

  markRunDeleting(seq: number): void {
    this.q('UPDATE job_runs SET deleting = 1 WHERE seq = ?').run(seq);
    this.runCache.update(seq, { deleting: true });
  }

  /** Every `image_reference` a job or a job run (in every project, history included) names. */
  imageReferences(): string[] {
    return (
      this.q(
        `SELECT json_extract(spec, '$.image_reference') AS ref FROM jobs
         UNION SELECT json_extract(spec, '$.image_reference') FROM job_runs`,
      ).all() as { ref: string | null }[]
    ).flatMap((r) => (r.ref ? [r.ref] : []));
  }

  /** Removes a run with its instances and events. */
  deleteRun(seq: number): void {
    this.q('DELETE FROM job_runs WHERE seq = ?').run(seq);
    this.instanceCache.dropRun(seq);
    this.pending.dropRun(seq);
    this.runCache.drop(seq);
  }

  runSeqsOfJob(projectId: string, jobName: string): number[] {
    return (
      this.q('SELECT seq FROM job_runs WHERE project_id = ? AND job_name = ?').all(projectId, jobName) as {
        seq: number;
      }[]
    ).map((r) => r.seq);
  }

  runSeqsOfProject(projectId: string): number[] {
    return (
      this.q('SELECT seq FROM job_runs WHERE project_id = ?').all(projectId) as { seq: number }[]
    ).map((r) => r.seq);
  }

  /** The name of the most recent run of a job, with its creation time. */
  lastRunOfJob(projectId: string, jobName: string): { name: string; createdMs: number } | undefined {
    const r = this.q(
        'SELECT name, created_ms FROM job_runs WHERE project_id = ? AND job_name = ? AND deleting = 0 ORDER BY seq DESC LIMIT 1',
      )
      .get(projectId, jobName) as Raw | undefined;
    return r && { name: r.name as string, createdMs: r.created_ms as number };
  }

  // ── instances ───────────────────────────────────────────────────────────────────────────
  insertInstance(i: InstanceRow): void {
    this.q(
        `INSERT INTO instances (run_seq, idx, retry, name, state, attempt, restarts, failures, cpu_millis, memory_bytes,
           created_ms, not_before_ms, reason, message)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        i.runSeq,
        i.index,
        i.retry,
        i.name,
        i.state,
        i.attempt,
        i.restarts,
        i.failures,
        i.cpuMillis,
        i.memoryBytes,
        i.createdMs,
        i.notBeforeMs ?? null,
        i.reason ?? null,
        i.message ?? null,
      );
    this.instanceCache.put(i);
    this.pending.track(i);
  }

  /** Writes every mutable field of an instance row. */
  saveInstance(i: InstanceRow): void {
    this.q(
        `UPDATE instances SET state = ?, attempt = ?, restarts = ?, failures = ?, first_started_ms = ?, started_ms = ?,
           finished_ms = ?, not_before_ms = ?, exit_code = ?, reason = ?, message = ?, stop_reason = ?, driver = ?,
           handle = ?, observed_exit = ?
         WHERE run_seq = ? AND idx = ? AND retry = ?`,
      )
      .run(
        i.state,
        i.attempt,
        i.restarts,
        i.failures,
        i.firstStartedMs ?? null,
        i.startedMs ?? null,
        i.finishedMs ?? null,
        i.notBeforeMs ?? null,
        i.exitCode ?? null,
        i.reason ?? null,
        i.message ?? null,
        i.stopReason ?? null,
        i.driver ?? null,
        i.handle ? JSON.stringify(i.handle) : null,
        i.observedExit ? JSON.stringify(i.observedExit) : null,
        i.runSeq,
        i.index,
        i.retry,
      );
    this.instanceCache.put(i);
    this.pending.track(i);
  }

  getInstance(runSeq: number, index: number, retry: number): InstanceRow | undefined {
    const cached = this.instanceCache.getOne(runSeq, index, retry);
    if (cached !== undefined) return cached ?? undefined;
    const r = this.q('SELECT * FROM instances WHERE run_seq = ? AND idx = ? AND retry = ?')
      .get(runSeq, index, retry) as Raw | undefined;
    return r && toInstance(r);
  }

  getInstanceByName(runSeq: number, name: string): InstanceRow | undefined {
    const r = this.q('SELECT * FROM instances WHERE run_seq = ? AND name = ?').get(runSeq, name) as Raw | undefined;
    return r && toInstance(r);
  }

  /** Every instance of a run, by index then retry. */
  instancesOfRun(runSeq: number): InstanceRow[] {
    const cached = this.instanceCache.get(runSeq);
    if (cached) return cached;
    const rows = (
      this.q('SELECT * FROM instances WHERE run_seq = ? ORDER BY idx, retry').all(runSeq) as Raw[]
    ).map(toInstance);
    this.instanceCache.fill(runSeq, rows);
    return rows;
  }

  /** Instances in any of `states`, across runs, in FIFO order (run, index, retry). */
  instancesInStates(states: readonly InstanceState[], limit = 1_000_000): InstanceRow[] {
    const marks = states.map(() => '?').join(', ');
    return (
      this.q(`SELECT * FROM instances WHERE state IN (${marks}) ORDER BY run_seq, idx, retry LIMIT ?`)
        .all(...states, limit) as Raw[]
    ).map(toInstance);
  }

  /**
   * Pending instances in FIFO order (run, index, retry) after a cursor (exclusive), a page at a
   * time, for admission: what it needs to decide (identity and size) without the whole row
   * (`getInstance` reads the rows it admits, from the instance cache). Answered from memory
   * (`pending-queue.ts`) once read.
   */
  pendingInstancesAfter(cursor: readonly [number, number, number], limit: number): PendingInstance[] {
    if (!this.pending.loaded) {
      // Ordered by rowid after (run_seq, idx), which the index `instances_state` holds: the
      // retries of an index are inserted in order, so within one index rowid order is retry order.
      const rows = this.q(
        `SELECT run_seq, idx, retry, cpu_millis, memory_bytes FROM instances
         WHERE state = 'pending' ORDER BY run_seq, idx, rowid`,
      ).all() as Raw[];
      this.pending.load(
        rows.map((r) => ({
          runSeq: r.run_seq as number,
          index: r.idx as number,
          retry: r.retry as number,
          cpuMillis: r.cpu_millis as number,
          memoryBytes: r.memory_bytes as number,
        })),
      );
    }
    return this.pending.after(cursor, limit);
  }

  /**
   * Sum of cpu and memory of instances holding capacity: in one of `states` and not known to
   * have ended (an exit observed but not yet decided frees its capacity at once).
   */
  usedCapacity(states: readonly InstanceState[]): { cpuMillis: number; memoryBytes: number } {
    const marks = states.map(() => '?').join(', ');
    const r = this.q(
        `SELECT COALESCE(SUM(cpu_millis), 0) AS cpu, COALESCE(SUM(memory_bytes), 0) AS mem FROM instances
         WHERE state IN (${marks}) AND observed_exit IS NULL`,
      )
      .get(...states) as { cpu: number; mem: number };
    return { cpuMillis: r.cpu, memoryBytes: r.mem };
  }

  // ── events ──────────────────────────────────────────────────────────────────────────────
  /**
   * Records an event. Like Kubernetes, the same event of the same object (type, reason and
   * message) is aggregated: its count grows and its last time moves, instead of a new row.
   */
  recordEvent(e: Omit<EventRow, 'id' | 'count' | 'firstMs' | 'lastMs'> & { timeMs: number }): void {
    const same = this.q(
      `SELECT id FROM events WHERE run_seq = ? AND instance_name IS ? AND reason = ? AND type = ? AND message = ?
       ORDER BY id DESC LIMIT 1`,
    ).get(e.runSeq, e.instanceName ?? null, e.reason, e.type, e.message) as Raw | undefined;
    if (same) {
      this.q('UPDATE events SET count = count + 1, last_ms = ? WHERE id = ?').run(e.timeMs, same.id);
      return;
    }
    this.q(
      `INSERT INTO events (run_seq, instance_name, type, reason, message, count, first_ms, last_ms)
       VALUES (?, ?, ?, ?, ?, 1, ?, ?)`,
    ).run(e.runSeq, e.instanceName ?? null, e.type, e.reason, e.message, e.timeMs, e.timeMs);
  }

  /** Events of a run (or one instance), by the time they last happened. */
  eventsOfRun(runSeq: number, instanceName?: string): EventRow[] {
    const rows = (
      instanceName === undefined
        ? this.q('SELECT * FROM events WHERE run_seq = ? ORDER BY last_ms, id').all(runSeq)
        : this.q('SELECT * FROM events WHERE run_seq = ? AND instance_name = ? ORDER BY last_ms, id').all(runSeq, instanceName)
    ) as Raw[];
    return rows.map(toEvent);
  }
}
