/** Runs `ce` in-process against a FakeApi with a temporary state home, capturing its output. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { RunCliOptions } from '../../src/cli/context.js';
import { FakeApi } from './fake-api.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const NOW = new Date('2024-05-01T10:03:58.000Z'); // 3m58s after T0

export class Harness {
  api = new FakeApi();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'cejobs-cli-'));
  env: Record<string, string | undefined> = {};

  async start(): Promise<this> {
    await this.api.start();
    this.env = { CEJOBS_API: this.api.url, CEJOBS_TOKEN: this.api.token, CEJOBS_HOME: this.home };
    return this;
  }

  async run(argv: string[], opts: { env?: Record<string, string | undefined>; isTTY?: boolean; stderrIsTTY?: boolean; stdinText?: string; options?: RunCliOptions } = {}): Promise<CliResult> {
    let stdout = '';
    let stderr = '';
    const stdin = opts.stdinText !== undefined ? makeStdin(opts.stdinText) : undefined;
    const code = await runCli(
      argv,
      {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        env: { ...this.env, ...(opts.env ?? {}) },
        isTTY: opts.isTTY ?? false,
        stderrIsTTY: opts.stderrIsTTY ?? false,
        ...(stdin ? { stdin } : {}),
      },
      { now: () => NOW, pollMs: 50, ...(opts.options ?? {}) },
    );
    return { code, stdout, stderr };
  }

  async close(): Promise<void> {
    await this.api.close();
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}

function makeStdin(text: string) {
  const listeners: Record<string, ((x?: any) => void)[]> = {};
  return {
    on(event: string, fn: (x?: any) => void) {
      (listeners[event] ??= []).push(fn);
      if (event === 'data') setTimeout(() => fn(text), 5);
      return this;
    },
    removeListener(event: string, fn: (...a: never[]) => void) {
      listeners[event] = (listeners[event] ?? []).filter((f) => f !== (fn as unknown));
      return this;
    },
  };
}

/** What `useHarnessWithFiles` gives each test. */
export interface HarnessWithFiles {
  h: Harness;
  /** A directory of the state home for files the test passes to `ce`. */
  dir: string;
  /** Writes a file into `dir`; returns its path. */
  write(name: string, text: string): string;
}

/** A started harness for each test (closed after it), with a directory for input files. */
export function useHarnessWithFiles(set: (t: HarnessWithFiles) => void): void {
  let h: Harness | undefined;
  beforeEach(async () => {
    const started = await new Harness().start();
    h = started;
    const dir = fs.mkdtempSync(path.join(started.home, 'files-'));
    set({
      h: started,
      dir,
      write: (name, text) => {
        const p = path.join(dir, name);
        fs.writeFileSync(p, text);
        return p;
      },
    });
  });
  afterEach(async () => {
    await h?.close();
  });
}
