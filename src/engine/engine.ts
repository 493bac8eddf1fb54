/**
 * The engine: projects, jobs and job runs on one store and one driver, kept converging by a
 * level-triggered loop. This is cejobs as a library; the REST API and the CLI sit on top.
 *
 * Writes (create job, submit run, delete...) validate with the domain, commit, then only
 * enqueue keys. The loop (`WorkQueue`) processes `run:<seq>` keys with `syncRun` and the
 * `admission` key with `admit`; driver exits are recorded as facts and enqueue their run.
 * `close()` detaches: instances keep running and are recovered by the next `openEngine`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Builder } from '../builders/builder.js';
import type { Build, BuildRun } from '../domain/builds.js';
import type { ConfigObjectRef, Driver } from '../drivers/driver.js';
import { CejobsError, coerceError } from '../domain/errors.js';
import { isPlainObject } from '../domain/issues.js';
import type { BuildRunRow } from '../store/build-store.js';
import { isActive } from '../domain/instance-state.js';
import { checkProjectName } from '../domain/names.js';
import type { ConfigMap, Secret } from '../domain/config.js';
import type { Instance, Job, JobRun, Project, RunEvent } from '../domain/types.js';
import { validateJobPatch, validateJobPrototype } from '../domain/validate.js';
import type { InstanceRow, JobRow, Page, ProjectRow, RunRow } from '../store/rows.js';
import { Store, type ListOptions } from '../store/store.js';
import { admit } from './admission.js';
import { EngineEmitter, type EngineChange, type EngineChangeMap } from './changes.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { ADMISSION_KEY, RETENTION_KEY, runKey, type EngineContext } from './context.js';
import { recordObservedExit } from './exits.js';
import { BuildService } from './builds.js';
import { ConfigService, type ConfigListOptions, type SecretListOptions } from './config.js';
import type { ConfigResolver } from './instance-spec.js';
import { StateLayout } from './layout.js';
import { recoverInstances } from './recovery.js';
import { applyRetention } from './retention.js';
import { compileSettings, type EngineSettings, type EngineSettingsInput } from './settings.js';
import { RunLogs, type InstanceLog, type LogQuery, type TaggedRecord } from './run-logs.js';
import { checkRunnable, createRun, restartInstances, waitForTerminal } from './runs.js';
import { syncRun } from './sync-run.js';
import { WorkQueue } from './work-queue.js';
import { WriteBatch } from './write-batch.js';

export interface EngineOptions {
  /** State home: database, logs, work files. */
  home: string;
  driver: Driver;
  clock?: Clock;
  /** Source of randomness for jitter and generated names, [0, 1). @default Math.random */
  random?: () => number;
  settings?: EngineSettingsInput;
  /**
   * Looks up config maps and secrets for env references and mounts when an instance starts.
   * @default the project's config maps and (decrypted) secrets in the store
   */
  resolveConfig?: ConfigResolver;
  /**
   * Key (32 bytes) that seals secrets at rest (AES-256-GCM). Without one, everything works but
   * secrets: storing, revealing or resolving one fails with `secrets_unavailable`. The server
   * passes `ensureSecretKey(home)` (server/secret-key.ts).
   */
  secretKey?: Buffer;
  /** Where internal warnings go. @default console.warn */
  warn?: (message: string, error?: unknown) => void;
  /**
   * Turns source into what the driver runs (builders/): `DockerfileBuilder` for drivers that
   * run images, `SourceBuilder` for the process driver. Without one, builds answer
   * `builds_unavailable`.
   */
  builder?: Builder;
  /** Store durability. @default 'normal' */
  synchronous?: 'normal' | 'full';
}

export const DEFAULT_PROJECT = 'default';

export class Engine {
  readonly settings: EngineSettings;
  readonly layout: StateLayout;
  readonly store: Store;
  readonly driver: Driver;
  private readonly logs: RunLogs;
  private readonly config: ConfigService;
  private readonly builds: BuildService;
  private readonly ctx: EngineContext;
  private readonly changes = new EngineEmitter();
  private readonly inflight = new Set<Promise<void>>();
  private unsubscribe: (() => void) | undefined;
  private retentionTimer: TimerHandle | undefined;
  private closed = false;

  private constructor(options: EngineOptions, store: Store) {
    this.settings = compileSettings(options.settings);
    this.layout = new StateLayout(options.home);
    this.store = store;
    this.driver = options.driver;
    const warn =
      options.warn ??
      ((message: string, error?: unknown) =>
        console.warn(`[cejobs] ${message}${error ? `: ${coerceError(error).message}` : ''}`));
    const clock = options.clock ?? systemClock;
    this.config = new ConfigService(store, clock, () => this.settings.region, options.secretKey);
    const queue = new WorkQueue(clock, (key) => this.process(key), {
      onError: (key, error) => warn(`sync of ${key} failed; retrying`, error),
    });
    this.ctx = {
      store,
      driver: options.driver,
      clock,
      random: options.random ?? Math.random,
      settings: this.settings,
      layout: this.layout,
      queue,
      writes: new WriteBatch(store, (effects) => effects.run(this.ctx)),
      changes: this.changes,
      resolve: options.resolveConfig ?? this.config.resolve,
      warn,
    };
    this.logs = new RunLogs(this.layout, store, this.changes);
    this.builds = new BuildService({
      home: options.home,
      store,
      clock,
      region: () => this.settings.region,
      builder: options.builder,
      resolve: this.config.resolve,
      warn,
      onSucceeded: (run) => this.takeBuiltImage(run),
      outputGraceMs: () => this.settings.buildOutputGraceMs,
      concurrency: () => this.settings.buildConcurrency,
    });
    const builder = options.builder;
    if (builder) this.ctx.workDirOf = (image) => builder.workDirOf(image);
  }

  /** Opens (or creates) the state home, recovers live instances and starts the loop. */
  static async open(options: EngineOptions): Promise<Engine> {
    fs.mkdirSync(options.home, { recursive: true, mode: 0o700 });
    const store = Store.open(new StateLayout(options.home).database, { synchronous: options.synchronous });
    const engine = new Engine(options, store);
    await engine.start();
    return engine;
  }

  private async start(): Promise<void> {
    if (!this.store.getProject(DEFAULT_PROJECT)) this.createProject(DEFAULT_PROJECT);
    this.builds.recover();
    this.unsubscribe = this.driver.subscribe((exit) => recordObservedExit(this.ctx, exit));
    await recoverInstances(this.ctx);
    for (const seq of this.store.liveRunSeqs()) this.ctx.queue.add(runKey(seq));
    this.ctx.queue.add(ADMISSION_KEY);
    this.ctx.queue.add(RETENTION_KEY);
  }

  private async process(key: string): Promise<void> {
    if (key === ADMISSION_KEY) return admit(this.ctx, (p) => this.track(p));
    if (key === RETENTION_KEY) {
      applyRetention(this.ctx);
      // Outputs of deleted builds, build runs, jobs and runs: not awaited (a container engine
      // may be slow to answer), and harmless to run twice.
      this.track(this.builds.collectOutputs().then(() => undefined));
      this.retentionTimer?.cancel();
      this.retentionTimer = this.ctx.clock.setTimer(() => this.ctx.queue.add(RETENTION_KEY), this.settings.retentionIntervalMs);
      return;
    }
    if (key.startsWith('run:')) return syncRun(this.ctx, Number(key.slice(4)));
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((e) => this.ctx.warn('an instance start failed unexpectedly', e)).finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }

  /** Resolves when the loop has nothing left to do now (delayed work does not count). */
  async settle(): Promise<void> {
    for (;;) {
      await this.ctx.queue.idle();
      if (this.inflight.size > 0) {
        await Promise.all([...this.inflight]);
        continue;
      }
      if (!this.ctx.writes.isIdle()) {
        await this.ctx.writes.idle();
        continue;
      }
      // one more turn of the event loop: a start or an exit that just finished may queue work
      await new Promise((r) => setImmediate(r));
      if (this.inflight.size === 0 && this.ctx.queue.isIdle() && this.ctx.writes.isIdle()) return;
    }
  }

  /** Stops the loop and detaches from the driver. Running instances keep running. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.retentionTimer?.cancel();
    this.unsubscribe?.();
    await this.ctx.queue.stop();
    await this.builds.close();
    await Promise.all([...this.inflight]);
    await this.ctx.writes.idle(); // exits recorded in this turn: committed before the store closes
    await this.driver.close();
    this.store.close();
  }

  /** Sets `CE_API_BASE_URL` of instances started from now on (known once the server listens). */
  setApiBaseUrl(url: string): void {
    this.settings.apiBaseUrl = url;
  }

  /** Subscribes to changes (runs, instances, events); returns the unsubscribe function. */
  on<K extends EngineChange>(type: K, listener: (payload: EngineChangeMap[K]) => void): () => void {
    return this.changes.on(type, listener);
  }

  // ── projects ────────────────────────────────────────────────────────────────────────────

  createProject(name: string): Project {
    const issues = checkProjectName(name);
    if (issues.length) throw CejobsError.fromIssues(issues);
    if (this.store.getProject(name)) throw CejobsError.alreadyExists('Project', name);
    const row: ProjectRow = {
      id: crypto.randomUUID(),
      name,
      region: this.settings.region,
      subdomain: this.randomToken(10),
      status: 'active',
      createdMs: this.ctx.clock.now(),
    };
    this.store.insertProject(row);
    return this.resources.project(row);
  }

  listProjects(): Project[] {
    return this.store.listProjects().map((p) => this.resources.project(p));
  }

  getProject(idOrName: string): Project {
    return this.resources.project(this.projectRow(idOrName));
  }

  /** Deletes a project with its jobs and runs (runs are stopped first). */
  deleteProject(idOrName: string): void {
    const project = this.projectRow(idOrName);
    const config = this.store.config.namesOfProject(project.id);
    this.builds.deleteAllOfProject(project);
    const seqs = this.store.runSeqsOfProject(project.id);
    this.store.transaction(() => {
      this.store.setProjectStatus(project.id, 'deleting');
      for (const seq of seqs) this.store.markRunDeleting(seq);
      if (seqs.length === 0) this.store.deleteProject(project.id, this.ctx.clock.now());
    });
    for (const seq of seqs) this.ctx.queue.add(runKey(seq));
    this.forgetConfig([
      ...config.configMaps.map((name) => ({ projectId: project.id, source: 'config_map' as const, name })),
      ...config.secrets.map((name) => ({ projectId: project.id, source: 'secret' as const, name })),
    ]);
  }

  // ── jobs ────────────────────────────────────────────────────────────────────────────────

  /** Creates a job from a prototype (parsed JSON); 400-class `CejobsError` for bad input. */
  createJob(project: string, input: unknown): Job {
    const p = this.projectRow(project);
    const { body, buildRun } = splitBuildRun(input);
    const link = buildRun ? this.builds.runForJob(p, buildRun) : undefined;
    const proto = validateJobPrototype(body);
    const { name, ...spec } = proto;
    if (link) applyBuildImage(spec, link, isPlainObject(body) && body.image_reference !== undefined);
    checkRunnable(this.driver, spec, { imagePending: link !== undefined && link.status !== 'succeeded' });
    if (this.store.getJob(p.id, name)) throw CejobsError.alreadyExists('Job', name);
    const row: JobRow = {
      id: crypto.randomUUID(),
      projectId: p.id,
      name,
      createdMs: this.ctx.clock.now(),
      entityTag: this.newEntityTag(),
      spec,
    };
    this.store.transaction(() => {
      this.store.insertJob(row);
      if (link) this.store.builds.setJobLink(p.id, name, link.buildName, link.name);
    });
    return this.resources.job(row);
  }

  getJob(project: string, name: string): Job {
    return this.resources.job(this.jobRow(this.projectRow(project).id, name));
  }

  listJobs(project: string, options: ListOptions = {}): Page<Job> {
    const page = this.store.listJobs(this.projectRow(project).id, options);
    return { ...page, items: page.items.map((j) => this.resources.job(j)) };
  }

  /** The newest run of a job, if any (for `job get` / `job list`). */
  lastRunOf(project: string, jobName: string): { name: string; created_at: string } | undefined {
    const r = this.store.lastRunOfJob(this.projectRow(project).id, jobName);
    return r && { name: r.name, created_at: new Date(r.createdMs).toISOString() };
  }

  /**
   * Applies a merge patch to a job. `ifMatch` (the `If-Match` header) must equal the job's
   * `entity_tag` unless it is `*` or absent.
   */
  updateJob(project: string, name: string, patch: unknown, ifMatch?: string): Job {
    const p = this.projectRow(project);
    return this.store.transaction(() => {
      const job = this.jobRow(p.id, name);
      if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== job.entityTag) {
        throw new CejobsError(
          'precondition_failed',
          `If-Match "${ifMatch}" does not match the current entity tag "${job.entityTag}" of job '${name}'; get the job again and retry.`,
        );
      }
      const { body, buildRun } = splitBuildRun(patch);
      const link = typeof buildRun === 'string' ? this.builds.runForJob(p, buildRun) : undefined;
      const spec = validateJobPatch(body, job.spec, name);
      if (link) applyBuildImage(spec, link, isPlainObject(body) && body.image_reference !== undefined);
      const current = this.store.builds.getJobLink(p.id, name);
      const pending = link ? link.status !== 'succeeded' : current !== undefined && buildRun !== null && !spec.image_reference;
      checkRunnable(this.driver, spec, { imagePending: pending });
      const entityTag = this.newEntityTag();
      this.store.updateJob(p.id, name, spec, entityTag);
      if (link) this.store.builds.setJobLink(p.id, name, link.buildName, link.name);
      // Detached on request, or by an image of its own.
      else if (buildRun === null || (isPlainObject(body) && typeof body.image_reference === 'string')) this.store.builds.deleteJobLink(p.id, name);
      return this.resources.job({ ...job, spec, entityTag });
    });
  }

  /** Deletes a job and (unless `orphanRuns`) all its runs, stopping their instances. */
  deleteJob(project: string, name: string, options: { orphanRuns?: boolean } = {}): void {
    const p = this.projectRow(project);
    this.jobRow(p.id, name);
    const seqs = options.orphanRuns ? [] : this.store.runSeqsOfJob(p.id, name);
    this.store.transaction(() => {
      for (const seq of seqs) this.store.markRunDeleting(seq);
      this.store.deleteJob(p.id, name);
      this.store.builds.deleteJobLink(p.id, name);
    });
    for (const seq of seqs) this.ctx.queue.add(runKey(seq));
  }

  // ── job runs ────────────────────────────────────────────────────────────────────────────

  /**
   * Submits a run from a prototype (parsed JSON): with `job_name` it inherits the job and
   * applies overrides; without, it is a standalone run. Returns the run as created (pending).
   */
  submitRun(project: string, input: unknown): JobRun {
    const p = this.projectRow(project);
    const jobName = isPlainObject(input) && typeof input.job_name === 'string' ? input.job_name : undefined;
    if (jobName !== undefined) this.builds.checkJobReady(p, jobName);
    const run = createRun(this.ctx, p, input);
    return this.resources.run(run);
  }

  getRun(project: string, name: string): JobRun {
    return this.resources.run(this.runRow(this.projectRow(project).id, name));
  }

  listRuns(project: string, options: ListOptions & { jobName?: string } = {}): Page<JobRun> {
    const page = this.store.listRuns(this.projectRow(project).id, options);
    return { ...page, items: page.items.map((r) => this.resources.run(r)) };
  }

  /** Deletes a run: its instances are stopped (SIGTERM, grace, SIGKILL), then it is purged. */
  deleteRun(project: string, name: string): void {
    const run = this.runRow(this.projectRow(project).id, name);
    this.store.markRunDeleting(run.seq);
    this.ctx.queue.add(runKey(run.seq));
  }

  /**
   * Restarts the running instances of a run (or the one named): each is stopped and started
   * again at once, counted as a restart, not as a failure.
   */
  restartRun(project: string, name: string, instance?: string): string[] {
    return restartInstances(this.ctx, this.runRow(this.projectRow(project).id, name), instance);
  }

  /** Every instance of a run (all retries), by index then retry. */
  listInstances(project: string, runName: string): Instance[] {
    const run = this.runRow(this.projectRow(project).id, runName);
    return this.store.instancesOfRun(run.seq).map((i) => this.resources.instance(i, run));
  }

  /** Events of a run (or of one of its instances), oldest first. */
  listEvents(project: string, runName: string, instance?: string): RunEvent[] {
    const run = this.runRow(this.projectRow(project).id, runName);
    return this.store.eventsOfRun(run.seq, instance).map((e) => this.resources.event(e, run));
  }

  /**
   * Resolves with the run once it is `completed` or `failed`. Rejects when the run is deleted,
   * or when `signal` aborts. Daemon runs end only when every index exited 0.
   */
  async waitForRun(project: string, name: string, options: { signal?: AbortSignal } = {}): Promise<JobRun> {
    const row = await waitForTerminal(this.ctx, this.projectRow(project).id, name, options.signal);
    return this.resources.run(row);
  }

  /** The logs of a run's instances (or one instance), whole or the last `tail` records each. */
  readLogs(project: string, runName: string, query: LogQuery = {}): Promise<InstanceLog[]> {
    return this.logs.read(this.runRow(this.projectRow(project).id, runName), query);
  }

  /** Follows a run's logs live until it finishes or is deleted (or `signal` aborts). */
  followLogs(
    project: string,
    runName: string,
    query: LogQuery & { signal?: AbortSignal; pollMs?: number } = {},
  ): AsyncGenerator<TaggedRecord> {
    return this.logs.follow(this.runRow(this.projectRow(project).id, runName), query);
  }

  /**
   * Removes built outputs (snapshots, images) that no job, job run or build run refers to and
   * that are older than `buildOutputGraceMs`; runs with retention too. Returns what it removed.
   */
  collectBuildOutputs(): Promise<string[]> {
    return this.builds.collectOutputs();
  }

  /** True while the run has instances that may still be alive on the driver. */
  hasLiveInstances(project: string, runName: string): boolean {
    const run = this.store.getRun(this.projectRow(project).id, runName);
    return !!run && this.store.instancesOfRun(run.seq).some((i) => isActive(i.state));
  }

  // ── config maps and secrets ─────────────────────────────────────────────────────────────

  /** Creates a config map from `{name, data}` (parsed JSON). */
  createConfigMap(project: string, input: unknown): ConfigMap {
    return this.config.createConfigMap(this.projectRow(project), input);
  }

  getConfigMap(project: string, name: string): ConfigMap {
    return this.config.getConfigMap(this.projectRow(project), name);
  }

  listConfigMaps(project: string, options: ConfigListOptions = {}): Page<ConfigMap> {
    return this.config.listConfigMaps(this.projectRow(project), options);
  }

  /** Replaces a config map's data from `{data}`; `ifMatch` must be its entity tag unless `*` or absent. */
  replaceConfigMap(project: string, name: string, input: unknown, ifMatch?: string): ConfigMap {
    return this.config.replaceConfigMap(this.projectRow(project), name, input, ifMatch);
  }

  deleteConfigMap(project: string, name: string): void {
    const p = this.projectRow(project);
    this.config.deleteConfigMap(p, name);
    this.forgetConfig([{ projectId: p.id, source: 'config_map', name }]);
  }

  /** Creates a secret from `{name, format?, data}`; the answer's values are `REDACTED`. */
  createSecret(project: string, input: unknown): Secret {
    return this.config.createSecret(this.projectRow(project), input);
  }

  /** A secret; its values are `REDACTED` unless `reveal`. */
  getSecret(project: string, name: string, options: { reveal?: boolean } = {}): Secret {
    return this.config.getSecret(this.projectRow(project), name, options);
  }

  /** Secrets of a project (`format` filters); values `REDACTED` unless `reveal`. */
  listSecrets(project: string, options: SecretListOptions = {}): Page<Secret> {
    return this.config.listSecrets(this.projectRow(project), options);
  }

  /** Replaces a secret's data from `{format?, data}` (the format cannot change); the answer is redacted. */
  replaceSecret(project: string, name: string, input: unknown, ifMatch?: string): Secret {
    return this.config.replaceSecret(this.projectRow(project), name, input, ifMatch);
  }

  deleteSecret(project: string, name: string): void {
    const p = this.projectRow(project);
    this.config.deleteSecret(p, name);
    this.forgetConfig([{ projectId: p.id, source: 'secret', name }]);
  }

  /**
   * Deleted config objects: the driver removes its copies of them, after the deletion is
   * committed (a crash in between leaves a copy behind, as before this existed); a failure is a
   * warning. Tracked like starts, so `settle` and `close` wait for it.
   */
  private forgetConfig(refs: ConfigObjectRef[]): void {
    if (!this.driver.forgetConfig) return;
    for (const ref of refs) {
      this.track(this.driver.forgetConfig(ref).catch((e) => this.ctx.warn(`removing the driver's copy of ${ref.source === 'secret' ? 'secret' : 'config map'} ${ref.name}`, e)));
    }
  }

  // ── builds and build runs (engine/builds.ts) ─────────────────────────────────────────────

  /** The strategy builds use on this server (`dockerfile` or `source`), or undefined without a builder. */
  get buildStrategy(): Build['strategy_type'] | undefined {
    return this.builds.builder?.strategy;
  }

  createBuild(project: string, input: unknown): Build {
    return this.builds.createBuild(this.projectRow(project), input);
  }

  getBuild(project: string, name: string): Build {
    return this.builds.getBuild(this.projectRow(project), name);
  }

  listBuilds(project: string, options: ListOptions = {}): Page<Build> {
    return this.builds.listBuilds(this.projectRow(project), options);
  }

  updateBuild(project: string, name: string, patch: unknown, ifMatch?: string): Build {
    return this.builds.updateBuild(this.projectRow(project), name, patch, ifMatch);
  }

  deleteBuild(project: string, name: string): void {
    this.builds.deleteBuild(this.projectRow(project), name);
  }

  /** Stores a tar stream as the source of a local build (at most `maxBytes`). */
  uploadBuildSource(project: string, name: string, tar: NodeJS.ReadableStream, maxBytes: number): Promise<{ bytes: number }> {
    return this.builds.uploadSource(this.projectRow(project), name, tar, maxBytes);
  }

  submitBuildRun(project: string, input: unknown): BuildRun {
    return this.builds.submitBuildRun(this.projectRow(project), input);
  }

  getBuildRun(project: string, name: string): BuildRun {
    return this.builds.getBuildRun(this.projectRow(project), name);
  }

  listBuildRuns(project: string, options: ListOptions & { buildName?: string } = {}): Page<BuildRun> {
    return this.builds.listBuildRuns(this.projectRow(project), options);
  }

  deleteBuildRun(project: string, name: string): void {
    this.builds.deleteBuildRun(this.projectRow(project), name);
  }

  waitForBuildRun(project: string, name: string): Promise<BuildRun> {
    return this.builds.waitForBuildRun(this.projectRow(project), name);
  }

  readBuildRunLog(project: string, name: string, tail?: number): Promise<string[]> {
    return this.builds.readBuildRunLog(this.projectRow(project), name, tail);
  }

  /** A build run succeeded: the jobs made from it run its image from now on. */
  private takeBuiltImage(run: BuildRunRow): void {
    if (!run.outputImage) return;
    this.store.transaction(() => {
      for (const name of this.store.builds.jobsOfBuildRun(run.projectId, run.name)) {
        const job = this.store.getJob(run.projectId, name);
        if (!job) continue;
        this.store.updateJob(run.projectId, name, { ...job.spec, image_reference: run.outputImage! }, this.newEntityTag());
      }
    });
  }

  // ── helpers ─────────────────────────────────────────────────────────────────────────────

  private readonly resources = {
    project: (p: ProjectRow): Project => toProjectResource(p),
    job: (j: JobRow): Job => {
      const out = toJobResource(j, this.settings.region);
      const link = this.store.builds.getJobLink(j.projectId, j.name);
      if (link) {
        out.build = link.buildName;
        out.build_run = link.buildRunName;
      }
      return out;
    },
    run: (r: RunRow): JobRun => toJobRunResource(r, this.settings.region),
    instance: (i: InstanceRow, r: RunRow): Instance => toInstanceResource(i, r),
    event: (e: Parameters<typeof toRunEventResource>[0], r: RunRow): RunEvent => toRunEventResource(e, r),
  };

  private projectRow(idOrName: string): ProjectRow {
    const p = this.store.getProject(idOrName);
    if (!p || p.status === 'deleting') throw CejobsError.notFound('Project', idOrName);
    return p;
  }

  private jobRow(projectId: string, name: string): JobRow {
    const j = this.store.getJob(projectId, name);
    if (!j) throw CejobsError.notFound('Job', name);
    return j;
  }

  private runRow(projectId: string, name: string): RunRow {
    const r = this.store.getRun(projectId, name);
    if (!r || r.deleting) throw CejobsError.notFound('Job run', name);
    return r;
  }

  private newEntityTag(): string {
    return String(crypto.randomBytes(4).readUInt32BE() + 1e9);
  }

  private randomToken(n: number): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.ctx.random() * alphabet.length)];
    return s;
  }
}

import {
  toInstance as toInstanceResource,
  toJob as toJobResource,
  toJobRun as toJobRunResource,
  toProject as toProjectResource,
  toRunEvent as toRunEventResource,
} from './resources.js';

/** Opens an engine; see `Engine.open`. */
export function openEngine(options: EngineOptions): Promise<Engine> {
  return Engine.open(options);
}

/** Takes the `build_run` extension field out of a job body (`null` = detach). */
function splitBuildRun(input: unknown): { body: unknown; buildRun: string | null | undefined } {
  if (!isPlainObject(input) || !('build_run' in input)) return { body: input, buildRun: undefined };
  const { build_run: buildRun, ...body } = input;
  if (buildRun !== null && typeof buildRun !== 'string') {
    const message = `build_run ${JSON.stringify(buildRun)} is not valid: it must be the name of a build run (or null to detach the job)`;
    throw new CejobsError('invalid_field', message, [{ code: 'invalid_field', field: 'build_run', message }]);
  }
  return { body, buildRun };
}

/** A job made from a build run runs its output image (once there); another image given with it is refused. */
function applyBuildImage(spec: { image_reference?: string }, run: BuildRunRow, imageGiven: boolean): void {
  if (imageGiven && spec.image_reference !== run.outputImage) {
    const message = `image_reference: a job made from build run '${run.name}' runs its image; give build_run or image_reference, not both`;
    throw new CejobsError('invalid_field', message, [{ code: 'invalid_field', field: 'image_reference', message }]);
  }
  // A run still building leaves the job's current image (if any) until it succeeds.
  if (run.outputImage) spec.image_reference = run.outputImage;
}
