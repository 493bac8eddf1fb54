/**
 * The `dockerfile` builder (drivers that run images): the context is sent to the container
 * engine's build API (`POST /build`, Podman's and Docker's) as a tar of the files
 * `.dockerignore` keeps (the Dockerfile and `.dockerignore` always go). The image is built
 * under a temporary tag, then tagged `<repository>:sha256-<first 32 hex of the image id>` and
 * the temporary tag removed: the reference is fixed by content, so a rebuild with other content
 * never moves an image a run already uses.
 *
 * `signal` aborts the build request: Docker then cancels the build; Podman 4.3 lets the step
 * that runs finish on its own and discards the result (docs/builds.md, limits).
 */
import fs from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import tarFs from 'tar-fs';
import { BuildError, type BuildInput, type BuildLog, type BuildOutput, type Builder } from './builder.js';
import { parseDockerignore } from './dockerignore.js';
import { walkTree } from './tree.js';

interface BuildEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/** The repositories built images are tagged in (`engine/build-runner.ts` `repositoryOf`). */
const BUILT_PREFIX = 'localhost/cejobs-build/';

export class DockerfileBuilder implements Builder {
  readonly strategy = 'dockerfile' as const;

  constructor(private readonly docker: Docker) {}

  async collect(inUse: ReadonlySet<string>, olderThanMs: number, owns: (ref: string) => boolean): Promise<string[]> {
    let images: { RepoTags?: string[] | null; Created: number }[] = [];
    try {
      images = await this.docker.listImages({ filters: JSON.stringify({ reference: [`${BUILT_PREFIX}*`] }) });
    } catch {
      return [];
    }
    const removed: string[] = [];
    for (const image of images) {
      if (image.Created * 1000 >= olderThanMs) continue;
      for (const tag of image.RepoTags ?? []) {
        if (!tag.startsWith(BUILT_PREFIX) || !owns(tag) || inUse.has(tag)) continue;
        try {
          // Removes the tag (and the image with its last tag); refused while a container uses it.
          await this.docker.getImage(tag).remove();
          removed.push(tag);
        } catch {
          // in use, or gone: next time
        }
      }
    }
    return removed;
  }

  workDirOf(): string | undefined {
    return undefined;
  }

  async build(input: BuildInput, log: BuildLog, signal: AbortSignal): Promise<BuildOutput> {
    const root = path.join(input.sourceDir, input.contextDir);
    if (!fs.existsSync(path.join(root, input.specFile))) {
      throw new BuildError('DockerfileNotFound', `the Dockerfile ${JSON.stringify(input.specFile)} was not found in the context directory ${JSON.stringify(input.contextDir || '.')}`);
    }
    const ignoreFile = path.join(root, '.dockerignore');
    const ignored = fs.existsSync(ignoreFile) ? parseDockerignore(fs.readFileSync(ignoreFile, 'utf8')) : () => false;
    const always = new Set([input.specFile, '.dockerignore']);
    const entries = walkTree(root, () => false)
      .filter((e) => e.type !== 'dir' && (always.has(e.rel) || !ignored(e.rel)))
      .map((e) => e.rel);
    log.note(`sending a build context of ${entries.length} files`);
    const temp = `${input.repository}:build-${input.buildRunId}`;
    const context = tarFs.pack(root, { entries });
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.buildImage(context, {
        t: temp,
        dockerfile: input.specFile,
        rm: true,
        forcerm: true,
        abortSignal: signal,
      } as Docker.ImageBuildOptions);
    } catch (e) {
      if (signal.aborted) throw new BuildError('BuildTimeout', 'the build was stopped');
      throw new BuildError('BuildFailed', `the container engine refused the build: ${messageOf(e)}`);
    }
    const failure = await new Promise<string | undefined>((resolve) => {
      let failed: string | undefined;
      this.docker.modem.followProgress(
        stream,
        (err: unknown) => resolve(failed ?? (err ? messageOf(err) : undefined)),
        (event: BuildEvent) => {
          if (event.stream) log.write('stdout', event.stream);
          const msg = event.errorDetail?.message ?? event.error;
          if (msg) {
            failed ??= String(msg).trim();
            log.write('stderr', `${String(msg).trim()}\n`);
          }
        },
      );
    });
    if (signal.aborted) throw new BuildError('BuildTimeout', 'the build was stopped');
    if (failure !== undefined) throw new BuildError('BuildFailed', failure);
    let id: string;
    try {
      id = ((await this.docker.getImage(temp).inspect()) as { Id: string }).Id;
    } catch (e) {
      throw new BuildError('BuildFailed', `the build reported success but its image ${temp} is not there: ${messageOf(e)}`);
    }
    const hex = id.replace(/^sha256:/, '');
    const tag = `sha256-${hex.slice(0, 32)}`;
    await this.docker.getImage(temp).tag({ repo: input.repository, tag });
    await this.docker.getImage(temp).remove({ noprune: true }).catch(() => undefined);
    const image = `${input.repository}:${tag}`;
    log.note(`image ${image} (${id})`);
    return { image, digest: `sha256:${hex}` };
  }
}

function messageOf(e: unknown): string {
  const err = e as { json?: { message?: string } | null; message?: string };
  return String((err?.json && typeof err.json === 'object' ? err.json.message : undefined) ?? err?.message ?? e).trim();
}
