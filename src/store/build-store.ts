/**
 * Repository of builds and build runs (migration 3), over the store's database. Every lookup is
 * by project id, so projects are isolated by construction.
 */
import type { BuildRunStatus, BuildRunStatusDetails, BuildSpec } from '../domain/builds.js';
import type { Db } from './database.js';
import type { Page } from './rows.js';
import { opt, pageByName, Statements, type ListOptions, type Raw } from './sql.js';

export interface BuildRow {
  id: string;
  projectId: string;
  name: string;
  createdMs: number;
  entityTag: string;
  spec: BuildSpec;
}

export interface BuildRunRow {
  id: string;
  projectId: string;
  name: string;
  buildName: string;
  createdMs: number;
  /** The build's spec when the run was submitted. */
  spec: BuildSpec;
  status: BuildRunStatus;
  details: BuildRunStatusDetails;
  outputImage?: string;
}

function toBuild(r: Raw): BuildRow {
  return {
    id: r.id as string,
    projectId: r.project_id as string,
    name: r.name as string,
    createdMs: r.created_ms as number,
    entityTag: r.entity_tag as string,
    spec: JSON.parse(r.spec as string) as BuildSpec,
  };
}

function toBuildRun(r: Raw): BuildRunRow {
  const out: BuildRunRow = {
    id: r.id as string,
    projectId: r.project_id as string,
    name: r.name as string,
    buildName: r.build_name as string,
    createdMs: r.created_ms as number,
    spec: JSON.parse(r.spec as string) as BuildSpec,
    status: r.status as BuildRunStatus,
    details: JSON.parse(r.status_details as string) as BuildRunStatusDetails,
  };
  const image = opt<string>(r.output_image);
  if (image !== undefined) out.outputImage = image;
  return out;
}

export class BuildStore {
  private readonly statements: Statements;

  constructor(db: Db) {
    this.statements = new Statements(db);
  }

  private q(sql: string) {
    return this.statements.get(sql);
  }

  // ── builds ──────────────────────────────────────────────────────────────────────────────
  insertBuild(b: BuildRow): void {
    this.q('INSERT INTO builds (id, project_id, name, created_ms, entity_tag, spec) VALUES (?, ?, ?, ?, ?, ?)')
      .run(b.id, b.projectId, b.name, b.createdMs, b.entityTag, JSON.stringify(b.spec));
  }

  getBuild(projectId: string, name: string): BuildRow | undefined {
    const r = this.q('SELECT * FROM builds WHERE project_id = ? AND name = ?').get(projectId, name) as Raw | undefined;
    return r && toBuild(r);
  }

  listBuilds(projectId: string, options: ListOptions = {}): Page<BuildRow> {
    return pageByName(
      options,
      (after, n) => this.q('SELECT * FROM builds WHERE project_id = ? AND name > ? ORDER BY name LIMIT ?').all(projectId, after, n),
      toBuild,
    );
  }

  updateBuild(projectId: string, name: string, spec: BuildSpec, entityTag: string): void {
    this.q('UPDATE builds SET spec = ?, entity_tag = ? WHERE project_id = ? AND name = ?')
      .run(JSON.stringify(spec), entityTag, projectId, name);
  }

  deleteBuild(projectId: string, name: string): boolean {
    return this.q('DELETE FROM builds WHERE project_id = ? AND name = ?').run(projectId, name).changes > 0;
  }

  // ── build runs ──────────────────────────────────────────────────────────────────────────
  insertBuildRun(r: BuildRunRow): void {
    this.q(
      `INSERT INTO build_runs (id, project_id, name, build_name, created_ms, spec, status, status_details, output_image)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(r.id, r.projectId, r.name, r.buildName, r.createdMs, JSON.stringify(r.spec), r.status, JSON.stringify(r.details), r.outputImage ?? null);
  }

  getBuildRun(projectId: string, name: string): BuildRunRow | undefined {
    const r = this.q('SELECT * FROM build_runs WHERE project_id = ? AND name = ?').get(projectId, name) as Raw | undefined;
    return r && toBuildRun(r);
  }

  /** Build runs of a project by name; `buildName` filters. */
  listBuildRuns(projectId: string, options: ListOptions & { buildName?: string } = {}): Page<BuildRunRow> {
    return pageByName(
      options,
      (after, n) =>
        options.buildName === undefined
          ? this.q('SELECT * FROM build_runs WHERE project_id = ? AND name > ? ORDER BY name LIMIT ?').all(projectId, after, n)
          : this.q('SELECT * FROM build_runs WHERE project_id = ? AND build_name = ? AND name > ? ORDER BY name LIMIT ?')
              .all(projectId, options.buildName, after, n),
      toBuildRun,
    );
  }

  /** Build runs not yet terminal (in every project), oldest first. */
  liveBuildRuns(): BuildRunRow[] {
    return (this.q("SELECT * FROM build_runs WHERE status IN ('pending', 'running') ORDER BY seq").all() as Raw[]).map(toBuildRun);
  }

  setBuildRunState(id: string, status: BuildRunStatus, details: BuildRunStatusDetails, outputImage?: string): void {
    this.q('UPDATE build_runs SET status = ?, status_details = ?, output_image = ? WHERE id = ?')
      .run(status, JSON.stringify(details), outputImage ?? null, id);
  }

  deleteBuildRun(projectId: string, name: string): boolean {
    return this.q('DELETE FROM build_runs WHERE project_id = ? AND name = ?').run(projectId, name).changes > 0;
  }

  // ── job links ───────────────────────────────────────────────────────────────────────────
  /** The build run a job was made from, if any. */
  getJobLink(projectId: string, jobName: string): { buildName: string; buildRunName: string } | undefined {
    const r = this.q('SELECT * FROM job_builds WHERE project_id = ? AND job_name = ?').get(projectId, jobName) as Raw | undefined;
    return r && { buildName: r.build_name as string, buildRunName: r.build_run_name as string };
  }

  setJobLink(projectId: string, jobName: string, buildName: string, buildRunName: string): void {
    this.q('INSERT OR REPLACE INTO job_builds (project_id, job_name, build_name, build_run_name) VALUES (?, ?, ?, ?)')
      .run(projectId, jobName, buildName, buildRunName);
  }

  deleteJobLink(projectId: string, jobName: string): void {
    this.q('DELETE FROM job_builds WHERE project_id = ? AND job_name = ?').run(projectId, jobName);
  }

  /** Names of the jobs linked to a build run. */
  jobsOfBuildRun(projectId: string, buildRunName: string): string[] {
    return (this.q('SELECT job_name FROM job_builds WHERE project_id = ? AND build_run_name = ? ORDER BY job_name').all(projectId, buildRunName) as Raw[])
      .map((r) => r.job_name as string);
  }

  /** Removes every build and build run of a project. */
  deleteAllOfProject(projectId: string): void {
    this.q('DELETE FROM job_builds WHERE project_id = ?').run(projectId);
    this.q('DELETE FROM build_runs WHERE project_id = ?').run(projectId);
    this.q('DELETE FROM builds WHERE project_id = ?').run(projectId);
  }
}
