/**
 * Builds and build runs of the engine (docs/builds.md): create, get, list, update (with an
 * entity tag), delete builds; upload the source of a `local` build; submit, get, list, delete
 * build runs, read their logs and wait for them.
 *
 * A submitted run is executed in this process, with the engine's `Builder`
 * (engine/build-runner.ts), as soon as fewer than `buildConcurrency` runs execute; until then it
 * waits, `pending`, in submission order (deleting it takes it out of the line):
 *
 *     pending ──▶ running: source materialised in <home>/builds/runs/<id>/src
 *                 (git clone, or the upload of a local build extracted) ──▶ builder.build
 *             ──▶ succeeded (output_image, output_digest) | failed (reason, message + log tail)
 *
 * The timeout (`timeout` seconds, on the injected clock) aborts the build (`BuildTimeout`).
 * Runs found `pending`/`running` when the engine opens were interrupted by a restart and are
 * marked failed (`Interrupted`); none is ever left running forever.
 *
 * Files: `<home>/builds/uploads/<project id>/<build>.tar` (the latest upload of a local build),
 * `<home>/builds/runs/<run id>/` (`source.tar` copy of the upload at submit, `build.log`).
 * Snapshots of the `source` strategy live in `<home>/snapshots/` (builders/source.ts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Builder } from '../builders/builder.js';
import {
  transitionBuildRun,
  validateBuildPatch,
  validateBuildPrototype,
  validateBuildRunPrototype,
  type Build,
  type BuildRun,
  type BuildRunStatus,
  type BuildRunStatusDetails,
} from '../domain/builds.js';
import { CejobsError } from '../domain/errors.js';
import { readLogRecords } from '../logs/reader.js';
import type { BuildRow, BuildRunRow } from '../store/build-store.js';
import type { Page, ProjectRow } from '../store/rows.js';
import type { ListOptions, Store } from '../store/store.js';
import { executeBuildRun, repositoryOf, type BuildRunnerDeps } from './build-runner.js';
import type { Clock } from './clock.js';
import type { ConfigResolver } from './instance-spec.js';

const iso = (ms: number): string => new Date(ms).toISOString();

export const NO_BUILDER_MESSAGE = 'this server has no builder: builds need the container driver (dockerfile, with a container engine answering) or the process driver (source); the kubernetes driver cannot run images built on this machine, since nothing is pushed to a registry';

export interface BuildServiceOptions {
  home: string;
  store: Store;
  clock: Clock;
  region: () => string;
  builder: Builder | undefined;
  resolve: ConfigResolver;
  warn: (message: string, error?: unknown) => void;
  /** Called after a run succeeded (the engine points the jobs made from it at its image). */
  onSucceeded?: (run: BuildRunRow) => void;
  /** Unreferenced outputs younger than this stay (`EngineSettings.buildOutputGraceMs`). */
  outputGraceMs: () => number;
  /** Runs executed at once (`EngineSettings.buildConcurrency`). */
  concurrency: () => number;
}

export class BuildService {
  /** Runs submitted by this process and not finished: waiting for a slot or executing. */
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  /** Waiting runs in submission order; calling one executes it. */
  private readonly waiting: { id: string; execute: () => void }[] = [];
  private executing = 0;

  constructor(private readonly o: BuildServiceOptions) {}

  get builder(): Builder | undefined {
    return this.o.builder;
  }

  private get store() {
    return this.o.store.builds;
  }

  private dir(...parts: string[]): string {
    return path.join(this.o.home, 'builds', ...parts);
  }

  private uploadPath(projectId: string, build: string): string {
    return this.dir('uploads', projectId, `${build}.tar`);
  }

  runDir(runId: string): string {
    return this.dir('runs', runId);
  }

  private logPath(runId: string): string {
    return path.join(this.runDir(runId), 'build.log');
  }

  /**
   * Removes built outputs (snapshots, images) that no job, job run or build run refers to any
   * more and that are older than `outputGraceMs`. Skipped while a build runs, so an
   * output is never collected between its build and the job taking it.
   */
  async collectOutputs(): Promise<string[]> {
    const builder = this.o.builder;
    if (!builder || this.running.size > 0 || this.store.liveBuildRuns().length > 0) return [];
    const inUse = new Set([...this.o.store.imageReferences(), ...this.store.outputImages()]);
    // This state home's projects, deleted ones included: another server's images are never ours.
    const ours = [...this.o.store.listProjects().map((p) => p.id), ...this.o.store.deletedProjectIds()].map((id) => repositoryOf(id, ''));
    const owns = (ref: string): boolean => ours.some((prefix) => ref.startsWith(prefix));
    try {
      return await builder.collect(inUse, this.o.clock.now() - this.o.outputGraceMs(), owns);
    } catch (e) {
      this.o.warn('collecting unused build outputs', e);
      return [];
    }
  }

  /** Marks runs interrupted by a restart as failed. */
  recover(): void {
    for (const run of this.store.liveBuildRuns()) {
      this.finish(run, 'failed', {
        ...run.details,
        reason: 'Interrupted',
        message: 'the server stopped while this build ran; submit the build run again',
        completed_at: iso(this.o.clock.now()),
      });
      // What the interrupted run was working on is of no use any more (its log stays).
      fs.rmSync(path.join(this.runDir(run.id), 'src'), { recursive: true, force: true });
      fs.rmSync(path.join(this.runDir(run.id), 'source.tar'), { force: true });
    }
  }

  // ── builds ──────────────────────────────────────────────────────────────────────────────

  createBuild(p: ProjectRow, input: unknown): Build {
    const builder = this.requireBuilder();
    const { name, spec } = validateBuildPrototype(input, builder.strategy);
    this.checkStrategy(spec.strategy_type);
    return this.o.store.transaction(() => {
      if (this.store.getBuild(p.id, name)) throw CejobsError.alreadyExists('Build', name);
      const row: BuildRow = { id: crypto.randomUUID(), projectId: p.id, name, createdMs: this.o.clock.now(), entityTag: newEntityTag(), spec };
      this.store.insertBuild(row);
      return this.toBuild(row);
    });
  }

  getBuild(p: ProjectRow, name: string): Build {
    return this.toBuild(this.buildRow(p.id, name));
  }

  listBuilds(p: ProjectRow, options: ListOptions = {}): Page<Build> {
    const page = this.store.listBuilds(p.id, options);
    return { items: page.items.map((b) => this.toBuild(b)), next: page.next };
  }

  updateBuild(p: ProjectRow, name: string, patch: unknown, ifMatch?: string): Build {
    return this.o.store.transaction(() => {
      const row = this.buildRow(p.id, name);
      if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== row.entityTag) {
        throw new CejobsError('precondition_failed', `If-Match "${ifMatch}" does not match the current entity tag "${row.entityTag}" of build '${name}'; get the build again and retry.`);
      }
      const spec = validateBuildPatch(row.spec, patch);
      this.checkStrategy(spec.strategy_type);
      const entityTag = newEntityTag();
      this.store.updateBuild(p.id, name, spec, entityTag);
      return this.toBuild({ ...row, spec, entityTag });
    });
  }

  /** Deletes the build, its runs (stopping running ones) and its uploaded source. */
  deleteBuild(p: ProjectRow, name: string): void {
    this.buildRow(p.id, name);
    let start: string | undefined;
    do {
      const page = this.store.listBuildRuns(p.id, { buildName: name, limit: 100, ...(start ? { start } : {}) });
      for (const r of page.items) this.deleteBuildRunRow(r);
      start = page.next;
    } while (start);
    this.store.deleteBuild(p.id, name);
    fs.rmSync(this.uploadPath(p.id, name), { force: true });
  }

  /** Deletes every build of a project with its runs (stopping running ones) and uploads. */
  deleteAllOfProject(p: ProjectRow): void {
    for (;;) {
      const page = this.store.listBuilds(p.id, { limit: 100 });
      for (const b of page.items) this.deleteBuild(p, b.name);
      if (!page.next) break;
    }
    fs.rmSync(this.dir('uploads', p.id), { recursive: true, force: true });
  }

  /**
   * Stores the source of a `local` build: a tar stream, kept as the build's latest upload until
   * the next one. A build run copies it at submit, so a later upload never changes a run.
   */
  async uploadSource(p: ProjectRow, name: string, tar: NodeJS.ReadableStream, maxBytes: number): Promise<{ bytes: number }> {
    const row = this.buildRow(p.id, name);
    if (row.spec.source_type !== 'local') {
      throw new CejobsError('invalid_field', `build '${name}' has source_type ${row.spec.source_type}: only a local build takes an uploaded source`);
    }
    const file = this.uploadPath(p.id, name);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    let bytes = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        if (bytes > maxBytes) done(new CejobsError('object_too_large', `the uploaded source is larger than ${maxBytes} bytes`));
        else done(null, chunk);
      },
    });
    try {
      await pipeline(tar, count, fs.createWriteStream(tmp, { mode: 0o600 }));
      fs.renameSync(tmp, file);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
    return { bytes };
  }

  // ── build runs ──────────────────────────────────────────────────────────────────────────

  submitBuildRun(p: ProjectRow, input: unknown): BuildRun {
    this.requireBuilder();
    const proto = validateBuildRunPrototype(input);
    const build = this.buildRow(p.id, proto.build_name);
    this.checkStrategy(build.spec.strategy_type);
    const upload = this.uploadPath(p.id, build.name);
    if (build.spec.source_type === 'local' && !fs.existsSync(upload)) {
      throw new CejobsError('build_source_missing', `build '${build.name}' is local and its source was not uploaded yet: PUT the tar of the directory to .../builds/${build.name}/source first`);
    }
    const row = this.o.store.transaction(() => {
      const name = proto.name ?? `${build.name.slice(0, 40)}-run-${crypto.randomBytes(3).toString('hex')}`;
      if (this.store.getBuildRun(p.id, name)) throw CejobsError.alreadyExists('Build run', name);
      const r: BuildRunRow = {
        id: crypto.randomUUID(),
        projectId: p.id,
        name,
        buildName: build.name,
        createdMs: this.o.clock.now(),
        spec: build.spec,
        status: 'pending',
        details: {},
      };
      this.store.insertBuildRun(r);
      return r;
    });
    fs.mkdirSync(this.runDir(row.id), { recursive: true, mode: 0o700 });
    if (row.spec.source_type === 'local') fs.copyFileSync(upload, path.join(this.runDir(row.id), 'source.tar'));
    const abort = new AbortController();
    const deps: BuildRunnerDeps = {
      store: this.o.store,
      clock: this.o.clock,
      builder: this.requireBuilder(),
      resolve: this.o.resolve,
      runDir: (id) => this.runDir(id),
      logPath: (id) => this.logPath(id),
      finish: (r, status, details, image) => this.finish(r, status, details, image),
      ...(this.o.onSucceeded ? { onSucceeded: this.o.onSucceeded } : {}),
    };
    const done = new Promise<void>((resolve) => {
      const execute = (): void => {
        this.executing++;
        executeBuildRun(deps, row, abort.signal)
          .catch((e) => this.o.warn(`build run ${row.name} failed unexpectedly`, e))
          .finally(() => {
            this.executing--;
            resolve();
            this.startWaiting();
          });
      };
      this.waiting.push({ id: row.id, execute });
      // Deleted (or the engine closing) while it waits: it leaves the line without executing.
      abort.signal.addEventListener('abort', () => {
        const at = this.waiting.findIndex((w) => w.id === row.id);
        if (at < 0) return;
        this.waiting.splice(at, 1);
        resolve();
      });
    }).finally(() => this.running.delete(row.id));
    this.running.set(row.id, { abort, done });
    this.startWaiting();
    return this.toBuildRun(row);
  }

  /** Executes waiting runs, oldest first, while fewer than `concurrency` execute. */
  private startWaiting(): void {
    while (this.executing < this.o.concurrency() && this.waiting.length > 0) this.waiting.shift()!.execute();
  }

  getBuildRun(p: ProjectRow, name: string): BuildRun {
    return this.toBuildRun(this.buildRunRow(p.id, name));
  }

  listBuildRuns(p: ProjectRow, options: ListOptions & { buildName?: string } = {}): Page<BuildRun> {
    const page = this.store.listBuildRuns(p.id, options);
    return { items: page.items.map((r) => this.toBuildRun(r)), next: page.next };
  }

  deleteBuildRun(p: ProjectRow, name: string): void {
    this.deleteBuildRunRow(this.buildRunRow(p.id, name));
  }

  /** Resolves once the run is terminal (immediately when it is). */
  async waitForBuildRun(p: ProjectRow, name: string): Promise<BuildRun> {
    const row = this.buildRunRow(p.id, name);
    await this.running.get(row.id)?.done;
    return this.getBuildRun(p, name);
  }

  /** The build log as text lines (`tail`: only the last n). */
  async readBuildRunLog(p: ProjectRow, name: string, tail?: number): Promise<string[]> {
    const row = this.buildRunRow(p.id, name);
    const records = await readLogRecords(this.logPath(row.id), tail !== undefined ? { tail } : {});
    return records.map((r) => r.text);
  }

  /** Stops running builds (engine close). Their rows are marked interrupted at the next open. */
  async close(): Promise<void> {
    const all = [...this.running.values()];
    for (const r of all) r.abort.abort();
    await Promise.all(all.map((r) => r.done));
  }

  // ── jobs made from build runs ───────────────────────────────────────────────────────────

  /**
   * The build run a job is made from (`build_run` of a job body): it must exist and must not
   * have failed (a 400 naming `build_run`, with the failure's reason).
   */
  runForJob(p: ProjectRow, name: string): BuildRunRow {
    const row = this.store.getBuildRun(p.id, name);
    if (!row) {
      const message = `build_run: build run '${name}' was not found in project '${p.name}'.`;
      throw new CejobsError('not_found', message, [{ code: 'not_found', field: 'build_run', message }]);
    }
    if (row.status === 'failed') {
      const message = `build_run: build run '${name}' failed (${row.details.reason ?? 'BuildFailed'}); a job cannot run it. ${row.details.message ?? ''}`.trim();
      throw new CejobsError('invalid_field', message, [{ code: 'invalid_field', field: 'build_run', message }]);
    }
    return row;
  }

  /** Refuses a run of a job whose build run has not succeeded (and so gave it no image yet). */
  checkJobReady(p: ProjectRow, jobName: string): void {
    const link = this.o.store.builds.getJobLink(p.id, jobName);
    if (!link) return;
    const job = this.o.store.getJob(p.id, jobName);
    if (!job || job.spec.image_reference) return;
    const run = this.store.getBuildRun(p.id, link.buildRunName);
    const state = !run
      ? 'was deleted'
      : run.status === 'failed'
        ? `failed (${run.details.reason ?? 'BuildFailed'}: ${run.details.message?.split('\n')[0] ?? ''})`
        : `is ${run.status}`;
    throw new CejobsError(
      'build_not_ready',
      `job '${jobName}' runs the image of build run '${link.buildRunName}', which ${state}; wait for it (ce buildrun get --name ${link.buildRunName}) or rebuild (ce job update --name ${jobName} --rebuild)`,
    );
  }

  private finish(row: BuildRunRow, status: BuildRunStatus, details: BuildRunStatusDetails, outputImage?: string): BuildRunRow {
    const next = transitionBuildRun(row.status, status);
    this.store.setBuildRunState(row.id, next, details, outputImage ?? row.outputImage);
    const out: BuildRunRow = { ...row, status: next, details };
    if (outputImage ?? row.outputImage) out.outputImage = outputImage ?? row.outputImage!;
    return out;
  }

  private deleteBuildRunRow(r: BuildRunRow): void {
    this.store.deleteBuildRun(r.projectId, r.name);
    const live = this.running.get(r.id);
    const cleanup = () => fs.rmSync(this.runDir(r.id), { recursive: true, force: true });
    if (live) {
      live.abort.abort();
      void live.done.then(cleanup);
    } else cleanup();
  }

  // ── helpers ─────────────────────────────────────────────────────────────────────────────

  private requireBuilder(): Builder {
    if (!this.o.builder) throw new CejobsError('builds_unavailable', NO_BUILDER_MESSAGE);
    return this.o.builder;
  }

  private checkStrategy(strategy: string): void {
    const builder = this.requireBuilder();
    if (strategy !== builder.strategy) {
      throw new CejobsError(
        'invalid_field',
        `strategy_type "${strategy}" is not valid on this server: its driver builds with the ${builder.strategy} strategy`,
        [{ code: 'invalid_field', field: 'strategy_type', message: `strategy_type "${strategy}" is not valid on this server: its driver builds with the ${builder.strategy} strategy` }],
      );
    }
  }

  private buildRow(projectId: string, name: string): BuildRow {
    const row = this.store.getBuild(projectId, name);
    if (!row) throw CejobsError.notFound('Build', name);
    return row;
  }

  private buildRunRow(projectId: string, name: string): BuildRunRow {
    const row = this.store.getBuildRun(projectId, name);
    if (!row) throw CejobsError.notFound('Build run', name);
    return row;
  }

  private toBuild(b: BuildRow): Build {
    return {
      id: b.id,
      name: b.name,
      project_id: b.projectId,
      region: this.o.region(),
      resource_type: 'build_v2',
      created_at: iso(b.createdMs),
      entity_tag: b.entityTag,
      status: 'ready',
      output_image: repositoryOf(b.projectId, b.name),
      ...b.spec,
    };
  }

  private toBuildRun(r: BuildRunRow): BuildRun {
    const out: BuildRun = {
      id: r.id,
      name: r.name,
      project_id: r.projectId,
      region: this.o.region(),
      resource_type: 'build_run_v2',
      created_at: iso(r.createdMs),
      build_name: r.buildName,
      status: r.status,
      status_details: { ...r.details },
      ...r.spec,
    };
    if (r.outputImage !== undefined) out.output_image = r.outputImage;
    return out;
  }
}

function newEntityTag(): string {
  return String(crypto.randomBytes(4).readUInt32BE() + 1e9);
}
