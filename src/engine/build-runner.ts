/**
 * The execution of one build run (engine/builds.ts submits it): the source is materialised in
 * `<run dir>/src` (a `git clone`, or the upload of a local build extracted), the context
 * directory checked, the builder run with the build's timeout (on the injected clock), and the
 * outcome recorded: `succeeded` with the output image and digest, or `failed` with a reason and
 * a message that ends with the last lines of the build log. The working files go afterwards;
 * the log stays.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import tarFs from 'tar-fs';
import { BuildError, type Builder } from '../builders/builder.js';
import { cloneGit, type GitSource } from '../builders/git.js';
import { DEFAULT_DOCKERFILE, logTail, type BuildRunStatus, type BuildRunStatusDetails } from '../domain/builds.js';
import { readLogRecords } from '../logs/reader.js';
import { LogWriter } from '../logs/writer.js';
import type { BuildRunRow } from '../store/build-store.js';
import type { Store } from '../store/store.js';
import type { Clock } from './clock.js';
import type { ConfigResolver } from './instance-spec.js';

const iso = (ms: number): string => new Date(ms).toISOString();

export interface BuildRunnerDeps {
  store: Store;
  clock: Clock;
  builder: Builder;
  resolve: ConfigResolver;
  runDir: (runId: string) => string;
  logPath: (runId: string) => string;
  /** Records a status change (through the build-run state machine); returns the new row. */
  finish: (row: BuildRunRow, status: BuildRunStatus, details: BuildRunStatusDetails, outputImage?: string) => BuildRunRow;
  onSucceeded?: (run: BuildRunRow) => void;
}

/** Where the images (or snapshot references) of a build go: `localhost/cejobs-build/<project id prefix>-<build>`. */
export function repositoryOf(projectId: string, buildName: string): string {
  return `localhost/cejobs-build/${projectId.slice(0, 8)}-${buildName}`;
}

/** Runs one build run to its end; never rejects for a failure of the build itself. */
export async function executeBuildRun(d: BuildRunnerDeps, row: BuildRunRow, signal: AbortSignal): Promise<void> {
  const log = new LogWriter(d.logPath(row.id), { now: () => d.clock.now() });
  const started = d.clock.now();
  let current = d.finish(row, 'running', { started_at: iso(started) });
  const timeout = new AbortController();
  const timer = d.clock.setTimer(() => timeout.abort(), row.spec.timeout * 1000);
  const both = AbortSignal.any([signal, timeout.signal]);
  const src = path.join(d.runDir(row.id), 'src');
  try {
    log.note(`build run ${row.name} of build ${row.buildName} (${row.spec.strategy_type} strategy)`);
    await materialize(d, row, src, log, both);
    const contextDir = row.spec.source_context_dir ?? '';
    if (!isDirectory(path.join(src, contextDir))) {
      throw new BuildError('ContextDirNotFound', `the context directory ${JSON.stringify(contextDir)} does not exist in the source`);
    }
    const out = await d.builder.build(
      {
        sourceDir: src,
        contextDir,
        specFile: row.spec.strategy_spec_file ?? DEFAULT_DOCKERFILE,
        ...(row.spec.source_build_command !== undefined ? { buildCommand: row.spec.source_build_command } : {}),
        includeNodeModules: row.spec.source_include_node_modules ?? false,
        repository: repositoryOf(row.projectId, row.buildName),
        buildRunId: row.id,
      },
      log,
      both,
    );
    log.note(`build succeeded: ${out.image}`);
    current = d.finish(current, 'succeeded', { ...current.details, output_digest: out.digest, completed_at: iso(d.clock.now()) }, out.image);
    d.onSucceeded?.(current);
  } catch (e) {
    let reason: BuildRunStatusDetails['reason'] = 'BuildFailed';
    let message = e instanceof Error ? e.message : String(e);
    if (timeout.signal.aborted) {
      reason = 'BuildTimeout';
      message = `the build did not finish within its timeout of ${row.spec.timeout} s and was stopped`;
    } else if (signal.aborted) {
      reason = 'Cancelled';
      message = 'the build was stopped (deleted, or the server is closing)';
    } else if (e instanceof BuildError) reason = e.reason;
    log.note(`build failed (${reason}): ${message}`);
    log.flush();
    const tail = logTail((await readLogRecords(d.logPath(row.id), { tail: 12 }).catch(() => [])).map((r) => r.text).join('\n'));
    // A cancelled run is not recorded failed when it is being deleted (its row is gone).
    if (d.store.builds.getBuildRun(row.projectId, row.name)) {
      d.finish(current, 'failed', {
        ...current.details,
        reason,
        message: tail ? `${message}\n--- last lines of the build log ---\n${tail}` : message,
        completed_at: iso(d.clock.now()),
      });
    }
  } finally {
    timer.cancel();
    log.close();
    await removeTree(src);
    fs.rmSync(path.join(d.runDir(row.id), 'source.tar'), { force: true });
  }
}

async function materialize(d: BuildRunnerDeps, row: BuildRunRow, dest: string, log: LogWriter, signal: AbortSignal): Promise<void> {
  if (row.spec.source_type === 'git') {
    const source: GitSource = { url: row.spec.source_url ?? '' };
    if (row.spec.source_revision !== undefined) source.revision = row.spec.source_revision;
    if (row.spec.source_secret !== undefined) {
      const secret = d.store.config.getSecret(row.projectId, row.spec.source_secret);
      if (!secret) throw new BuildError('SourceCloneFailed', `the source_secret "${row.spec.source_secret}" was not found`);
      if (secret.format !== 'ssh_auth') {
        throw new BuildError('SourceCloneFailed', `the source_secret "${row.spec.source_secret}" has format ${secret.format}; it must be ssh_auth`);
      }
      const data = d.resolve(row.projectId, 'secret', row.spec.source_secret);
      source.ssh = { ssh_key: data.ssh_key ?? '', ...(data.known_hosts ? { known_hosts: data.known_hosts } : {}) };
    }
    await cloneGit(source, dest, log, signal);
    return;
  }
  const tar = path.join(d.runDir(row.id), 'source.tar');
  if (!fs.existsSync(tar)) throw new BuildError('SourceMissing', 'the uploaded source of this run is gone');
  fs.mkdirSync(dest, { recursive: true, mode: 0o700 });
  try {
    // Entries that would land outside `dest` (absolute, `..`, links out) are skipped.
    await pipeline(
      fs.createReadStream(tar),
      tarFs.extract(dest, {
        ignore: (name, header) => {
          const rel = path.relative(dest, name);
          if (rel.startsWith('..') || path.isAbsolute(rel)) return true;
          if (header && (header.type === 'link' || header.type === 'symlink') && header.linkname) {
            const target = path.resolve(path.dirname(name), header.linkname);
            const relTarget = path.relative(dest, target);
            if (header.type === 'link' || relTarget.startsWith('..') || path.isAbsolute(relTarget)) return true;
          }
          return !(header === undefined || ['file', 'directory', 'symlink'].includes(header.type));
        },
      }),
    );
  } catch (e) {
    throw new BuildError('SourceMissing', `the uploaded source is not a readable tar archive: ${(e as Error).message}`);
  }
  log.note('extracted the uploaded source');
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

async function removeTree(dir: string): Promise<void> {
  await fs.promises.rm(dir, { recursive: true, force: true }).catch(() => undefined);
}
