/**
 * Scratch directories of the process driver through a real launcher: every attempt starts in an
 * empty directory of its own, which is `TMPDIR` and its working directory, even when the
 * directory is one an earlier attempt used (src/launcher/scratch-pool.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptExit, Driver } from '../../src/drivers/driver.js';
import { createProcessDriver, shutdownLauncher } from '../../src/drivers/process/driver.js';
import { makeTestSpec, readLog, waitFor } from '../conformance/driver-conformance.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-process-scratch-'));
const launcherDir = path.join(root, 'launcher');
let driver: Driver;
const exits: AttemptExit[] = [];

beforeAll(async () => {
  driver = await createProcessDriver({ launcherDir, idleExitMs: 5_000 });
  driver.subscribe((e) => exits.push(e));
});
afterAll(async () => {
  await driver.close();
  await shutdownLauncher(launcherDir, { force: true });
  fs.rmSync(root, { recursive: true, force: true });
});

/** Runs a shell script to its end, releases it, and returns its stdout lines. */
async function run(label: string, script: string): Promise<string[]> {
  const s = makeTestSpec(root, label, ['/bin/sh', '-c', script]);
  await driver.start(s);
  const exit = await waitFor(`the exit of ${label}`, () => exits.find((e) => e.attemptId === s.attemptId));
  expect(exit.outcome).toMatchObject({ kind: 'exited', exitCode: 0 });
  await driver.release({ attemptId: s.attemptId });
  return readLog(s.logPath).filter((r) => r.stream === 'stdout').map((r) => r.text);
}

describe('process driver: scratch directories', () => {
  it('an attempt starts in an empty directory that is its TMPDIR, whatever the one before left in it', async () => {
    const [dir] = await run('writer', 'test "$PWD" = "$TMPDIR" && pwd && mkdir -p a/b && echo x > a/b/f && echo y > .hidden');
    expect(dir).toBeTruthy();
    expect(fs.existsSync(dir!)).toBe(false); // left with files: removed at release
    const [pwd, count] = await run('reader', 'pwd; ls -A | wc -l');
    expect(pwd).toMatch(new RegExp(`^${launcherDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/scratch/`));
    expect(count!.trim()).toBe('0');
  });

  it('an empty directory serves the next attempt, and one whose mode was changed does not', async () => {
    const [quiet, freshMode] = await run('quiet', 'pwd; stat -c %a .');
    const [next] = await run('next', 'pwd');
    expect(next).toBe(quiet); // given back empty: reused, no directory made
    const [opened] = await run('opener', 'pwd; chmod 777 .');
    expect(fs.existsSync(opened!)).toBe(false);
    const [, mode] = await run('after-open', 'pwd; stat -c %a .');
    expect(mode).toBe(freshMode);
  });
});
