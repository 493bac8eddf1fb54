/**
 * Repository of builds and build runs (migration 3), over the store's database. Every lookup is
 * by project id, so projects are isolated by construction.
 */
import type { BuildRunStatus, BuildRunStatusDetails, BuildSpec } from '../domain/builds.js';
import type { Db } from './database.js';
import type { Page } from './rows.js';
import { opt, ProjectRows, Statements, taggedColumns, taggedRow, type ListOptions, type Raw, type TaggedRow } from './sql.js';

export interface BuildRow extends TaggedRow {
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
  return { ...taggedRow(r), spec: JSON.parse(r.spec as string) as BuildSpec };
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
  private readonly builds: ProjectRows<BuildRow>;
  private readonly runs: ProjectRows<BuildRunRow>;

  constructor(db: Db) {
    this.statements = new Statements(db);
    this.builds = new ProjectRows(this.statements, 'builds', toBuild);
    this.runs = new ProjectRows(this.statements, 'build_runs', toBuildRun);
  }

  private q(sql: string) {
    return this.statements.get(sql);
  }

  // ── builds ──────────────────────────────────────────────────────────────────────────────
  insertBuild(b: BuildRow): void {
    this.builds.insert({ ...taggedColumns(b), spec: JSON.stringify(b.spec) });
  }

  getBuild(projectId: string, name: string): BuildRow | undefined {
    return this.builds.get(projectId, name);
  }

  listBuilds(projectId: string, options: ListOptions = {}): Page<BuildRow> {
    return this.builds.page(projectId, options);
  }

  updateBuild(projectId: string, name: string, spec: BuildSpec, entityTag: string): void {
    this.builds.update(projectId, name, { spec: JSON.stringify(spec), entity_tag: entityTag });
  }

  deleteBuild(projectId: string, name: string): boolean {
    return this.builds.delete(projectId, name);
  }

  // ── build runs ──────────────────────────────────────────────────────────────────────────
  insertBuildRun(r: BuildRunRow): void {
    this.q(
      `INSERT INTO build_runs (id, project_id, name, build_name, created_ms, spec, status, status_details, output_image)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(r.id, r.projectId, r.name, r.buildName, r.createdMs, JSON.stringify(r.spec), r.status, JSON.stringify(r.details), r.outputImage ?? null);
  }

  getBuildRun(projectId: string, name: string): BuildRunRow | undefined {
    return this.runs.get(projectId, name);
  }

  /** Build runs of a project by name; `buildName` filters. */
  listBuildRuns(projectId: string, options: ListOptions & { buildName?: string } = {}): Page<BuildRunRow> {
    return this.runs.page(projectId, options, { build_name: options.buildName });
  }

  /** The images (or snapshot references) build runs produced, in every project. */
  outputImages(): string[] {
    return (this.q('SELECT DISTINCT output_image AS ref FROM build_runs WHERE output_image IS NOT NULL').all() as { ref: string }[]).map((r) => r.ref);
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
    return this.runs.delete(projectId, name);
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
    this.runs.deleteAllOfProject(projectId);
    this.builds.deleteAllOfProject(projectId);
  }
}
