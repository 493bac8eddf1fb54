/**
 * A container's exit code as an attempt outcome, for the drivers whose runtime reports only a
 * code (container, kubernetes): 128 + N, N a known Linux signal, is "killed by" that signal
 * (`exitCode: null`); any other code is an exit with that code (`signal: null`).
 */
import type { AttemptOutcome } from '../domain/failure-reasons.js';

/** Linux signal names by number, for exit codes 128 + N. */
const SIGNALS: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE',
  9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM',
};

export function outcomeOfExitCode(code: number): AttemptOutcome {
  const sig = code > 128 ? SIGNALS[code - 128] : undefined;
  return sig ? { kind: 'exited', exitCode: null, signal: sig } : { kind: 'exited', exitCode: code, signal: null };
}
