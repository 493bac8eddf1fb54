/**
 * Running a build from the CLI: upload the directory of a local source, submit a build run,
 * wait for it (polling) and turn a failure into `CliFailure` with its reason and log tail.
 * Used by `ce buildrun submit` and by `ce job create|update --build-source/--rebuild`.
 */
import type { CejobsClient } from '../client/client.js';
import { packSource } from '../client/source-archive.js';
import type { ApiBuildRun } from '../client/types.js';
import { CliFailure } from './errors.js';
import type { Output } from './io.js';

export interface BuildWaitOptions {
  wait: boolean;
  /** Seconds. */
  waitTimeout: number;
  pollMs: number;
}

/** Reads a directory into a tar archive in memory (what `PUT …/builds/{name}/source` takes). */
export async function tarDirectory(dir: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of packSource(dir)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function uploadSource(client: CejobsClient, project: string, build: string, dir: string, out: Output): Promise<void> {
  out.info(`Uploading the source directory '${dir}'...`);
  const tar = await tarDirectory(dir);
  await client.uploadBuildSource(project, build, tar);
}

export const isBuildRunFinished = (r: ApiBuildRun): boolean => r.status === 'succeeded' || r.status === 'failed';

/** Submits a run of `build`, and waits for it when asked; throws `CliFailure` when it fails. */
export async function submitAndWait(
  client: CejobsClient,
  project: string,
  build: string,
  out: Output,
  options: BuildWaitOptions & { name?: string },
): Promise<ApiBuildRun> {
  out.info(`Submitting a build run of build '${build}'...`);
  const run = await client.submitBuildRun(project, { build_name: build, ...(options.name ? { name: options.name } : {}) });
  if (!options.wait) return run;
  return waitForBuildRun(client, project, run.name, out, options);
}

export async function waitForBuildRun(client: CejobsClient, project: string, name: string, out: Output, options: BuildWaitOptions): Promise<ApiBuildRun> {
  out.info(`Waiting for build run '${name}' to complete...`);
  const deadline = Date.now() + options.waitTimeout * 1000;
  for (;;) {
    const run = await client.getBuildRun(project, name);
    if (isBuildRunFinished(run)) {
      if (run.status === 'failed') throw new CliFailure(buildFailureText(run));
      out.info(`Build run '${name}' succeeded: ${run.output_image ?? ''}`);
      return run;
    }
    if (Date.now() > deadline) {
      throw new CliFailure(
        `Build run '${name}' did not finish within ${options.waitTimeout} s (it is ${run.status}; it keeps running).\n` +
          `Run 'ce buildrun get -n ${name}' to check it later.`,
      );
    }
    await new Promise((r) => setTimeout(r, options.pollMs));
  }
}

/** `Build run 'x' failed (BuildFailed): ...` with the log tail the server put in the message. */
export function buildFailureText(run: ApiBuildRun): string {
  const d = run.status_details;
  return [
    `Build run '${run.name}' failed (${d.reason ?? 'BuildFailed'}): ${d.message ?? 'no details'}`,
    `Run 'ce buildrun logs -n ${run.name}' to see the whole build log.`,
  ].join('\n');
}
