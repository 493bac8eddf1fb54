/**
 * Runs a host command for a build (git, a build command) in its own process group, output to
 * the build log; an abort kills the whole group (SIGTERM, then SIGKILL after 2 s).
 */
import { spawn } from 'node:child_process';
import type { BuildLog } from './builder.js';

export interface CommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  aborted: boolean;
}

export function runCommand(
  argv: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; log: BuildLog; signal: AbortSignal },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    if (options.signal.aborted) {
      resolve({ exitCode: null, signal: null, aborted: true });
      return;
    }
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const kill = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    const onAbort = () => {
      aborted = true;
      kill('SIGTERM');
      killTimer = setTimeout(() => kill('SIGKILL'), 2000);
    };
    options.signal.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (c: Buffer) => options.log.write('stdout', c));
    child.stderr.on('data', (c: Buffer) => options.log.write('stderr', c));
    child.once('error', (e) => {
      options.signal.removeEventListener('abort', onAbort);
      reject(e);
    });
    child.once('close', (code, sig) => {
      options.signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      // Anything left in the group (a daemonised grandchild) goes too.
      kill('SIGKILL');
      resolve({ exitCode: code, signal: sig, aborted });
    });
  });
}
