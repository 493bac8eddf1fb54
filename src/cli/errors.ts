/**
 * Errors of the CLI and their exit codes: `UsageError` (2: a bad command line, with a hint
 * naming the command's help), `CliFailure` (1 by default: something refused or failed, printed
 * after `FAILED`). API errors (`ApiError` from the client) are exit 1 as well.
 */

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** A bad command line. `command` is the full command path, e.g. `ce jobrun submit`. */
export class UsageError extends Error {
  command?: string;
  constructor(message: string, command?: string) {
    super(message);
    this.name = 'UsageError';
    if (command !== undefined) this.command = command;
  }
}

/** A failure to report after `FAILED` with `exitCode` (1 unless told). */
export class CliFailure extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = EXIT_FAILED) {
    super(message);
    this.name = 'CliFailure';
    this.exitCode = exitCode;
  }
}
