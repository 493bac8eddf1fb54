/**
 * The `source` builder (process driver): the context directory is copied, without `.git` (and
 * `node_modules` unless asked), into a temporary directory; the build command runs there
 * (default `npm ci` when `package-lock.json` exists, none otherwise); the result is made
 * read-only and renamed to `<snapshots>/<hex>`, where `<hex>` is the digest of the source
 * tree and the command. An identical later build reuses the snapshot. The reference a job
 * runs is `snapshot.cejobs.local/<repository name>:sha256-<hex>`; `workDirOf` maps it back.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BuildError, type BuildInput, type BuildLog, type BuildOutput, type Builder } from './builder.js';
import { runCommand } from './command.js';
import { copyEntries, makeReadOnly, makeWritable, treeDigest, walkTree } from './tree.js';

export const SNAPSHOT_REGISTRY = 'snapshot.cejobs.local';
const SNAPSHOT_REF = /^snapshot\.cejobs\.local\/[^:@]+:sha256-([0-9a-f]{64})$/;

export class SourceBuilder implements Builder {
  readonly strategy = 'source' as const;

  /** `snapshotsDir`: `<state home>/snapshots`. */
  constructor(private readonly snapshotsDir: string) {}

  /** Snapshots live in this state home's own directory: all of them are ours (`owns` unused). */
  async collect(inUse: ReadonlySet<string>, olderThanMs: number): Promise<string[]> {
    const used = new Set<string>();
    for (const ref of inUse) {
      const m = SNAPSHOT_REF.exec(ref);
      if (m) used.add(m[1]!);
    }
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.snapshotsDir);
    } catch {
      return [];
    }
    const removed: string[] = [];
    for (const hex of names) {
      if (!/^[0-9a-f]{64}$/.test(hex) || used.has(hex)) continue;
      const dir = path.join(this.snapshotsDir, hex);
      try {
        if (fs.statSync(dir).mtimeMs >= olderThanMs) continue;
        makeWritable(dir); // snapshots are read-only
        fs.rmSync(dir, { recursive: true, force: true });
        removed.push(dir);
      } catch {
        // gone already, or not removable now: next time
      }
    }
    return removed;
  }

  workDirOf(image: string): string | undefined {
    const m = SNAPSHOT_REF.exec(image);
    return m ? path.join(this.snapshotsDir, m[1]!) : undefined;
  }

  async build(input: BuildInput, log: BuildLog, signal: AbortSignal): Promise<BuildOutput> {
    const root = path.join(input.sourceDir, input.contextDir);
    const entries = walkTree(root, (rel, isDir) =>
      isDir && (rel === '.git' || rel.endsWith('/.git') || (!input.includeNodeModules && (rel === 'node_modules' || rel.endsWith('/node_modules')))),
    );
    const hasLock = entries.some((e) => e.rel === 'package-lock.json' || e.rel === 'npm-shrinkwrap.json');
    const command = input.buildCommand ?? (hasLock ? 'npm ci' : '');
    const digest = treeDigest(root, entries, `command:${command}`);
    const hex = digest.slice('sha256:'.length);
    const image = `${SNAPSHOT_REGISTRY}/${input.repository.replace(/^[^/]*\//, '')}:sha256-${hex}`;
    const final = path.join(this.snapshotsDir, hex);
    log.note(`source snapshot ${digest} of ${entries.filter((e) => e.type === 'file').length} files`);
    if (fs.existsSync(final)) {
      // Touched: a reused snapshot must not look old to `collect` before the job refers to it.
      fs.utimesSync(final, new Date(), new Date());
      log.note(`the snapshot exists already (${final}); reusing it`);
      return { image, digest };
    }
    fs.mkdirSync(this.snapshotsDir, { recursive: true, mode: 0o700 });
    const tmp = path.join(this.snapshotsDir, `.tmp-${input.buildRunId}-${crypto.randomBytes(4).toString('hex')}`);
    try {
      copyEntries(root, tmp, entries);
      if (command !== '') {
        log.note(`running the build command: ${command}`);
        const r = await runCommand(['/bin/sh', '-c', command], { cwd: tmp, log, signal });
        if (r.aborted) throw new BuildError('BuildTimeout', 'the build command was stopped');
        if (r.exitCode !== 0) {
          throw new BuildError('BuildFailed', `the build command "${command}" failed (${r.signal ? `killed by ${r.signal}` : `exit code ${r.exitCode}`})`);
        }
      } else log.note('no build command (no package-lock.json and none given)');
      makeReadOnly(tmp);
      try {
        fs.renameSync(tmp, final);
      } catch (e) {
        // A concurrent identical build got there first: same content, keep theirs.
        if (!fs.existsSync(final)) throw e;
        removeTree(tmp);
      }
      log.note(`snapshot ready at ${final}`);
      return { image, digest };
    } catch (e) {
      removeTree(tmp);
      throw e;
    }
  }
}

function removeTree(dir: string): void {
  try {
    makeWritable(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    // best effort: a leftover temp dir is harmless
  }
}
