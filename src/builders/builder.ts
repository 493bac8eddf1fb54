/**
 * The `Builder` contract: how the engine turns a source tree into something a driver runs.
 *
 * A builder gets a directory the engine prepared (a Git clone or an uploaded tree, writable and
 * private to this build run) and produces an **immutable** reference:
 * - `dockerfile` (drivers that run images): an image built by the container engine, tagged
 *   `<repository>:<digest-derived tag>`; a later build with other content gets another tag, so
 *   a run submitted earlier keeps its image.
 * - `source` (drivers that run host commands): a content-addressed, read-only snapshot
 *   directory; the reference names it and `workDirOf` maps it back to the directory.
 *
 * Rules every builder follows:
 * - Output of the build goes to `log` (stdout/stderr of the tool, `note` for cejobs' own lines).
 * - `signal` aborts the build (timeout, deletion): the builder stops what it started (the
 *   engine request, the process group) and rejects.
 * - A failure of the build itself rejects with `BuildError` and its reason; anything else
 *   (the container engine unreachable) rejects with a plain Error.
 */
import type { BuildFailureReason, BuildStrategyType } from '../domain/builds.js';

/** Where build output goes (`logs/writer.ts`'s `LogWriter` is one). */
export interface BuildLog {
  write(stream: 'stdout' | 'stderr', chunk: Buffer | string): void;
  note(text: string): void;
}

export interface BuildInput {
  /** Root of the source (clone or upload). */
  sourceDir: string;
  /** Directory inside `sourceDir` that is the build's root ('' = the root). Already checked to exist. */
  contextDir: string;
  /** `dockerfile`: the Dockerfile, relative to the context. */
  specFile: string;
  /** `source`: shell command run in the snapshot; undefined = `npm ci` when a lockfile exists. */
  buildCommand?: string;
  /** `source`: copy `node_modules` as well. */
  includeNodeModules: boolean;
  /** `dockerfile`: the image repository, e.g. `localhost/cejobs-build/default-hello`. */
  repository: string;
  /** Unique per build run; used for temporary names. */
  buildRunId: string;
}

export interface BuildOutput {
  /** The immutable reference a job runs (`image_reference`). */
  image: string;
  /** `sha256:<hex>`: the image id or the snapshot's content digest. */
  digest: string;
}

export interface Builder {
  readonly strategy: BuildStrategyType;
  build(input: BuildInput, log: BuildLog, signal: AbortSignal): Promise<BuildOutput>;
  /**
   * The directory an instance of `image` works in, when this builder made it (`source`), else
   * `undefined`.
   */
  workDirOf(image: string): string | undefined;
  /**
   * Removes what this builder made for this state home (`owns`: a container engine may serve
   * several cejobs servers) that no reference in `inUse` names and that is older than
   * `olderThanMs` (epoch ms); returns what it removed. Never throws: what cannot be removed
   * now (an image a container still uses) stays for the next time.
   */
  collect(inUse: ReadonlySet<string>, olderThanMs: number, owns: (ref: string) => boolean): Promise<string[]>;
}

/** A build that failed for a reason of its own (bad Dockerfile, failing command...). */
export class BuildError extends Error {
  constructor(
    readonly reason: BuildFailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'BuildError';
  }
}
