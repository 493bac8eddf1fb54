/**
 * The CLI's I/O: `CliIo` (what `runCli` is given: streams, environment, whether it talks to a
 * terminal) and `Output` (what commands print through: progress messages that `--quiet` and
 * `-o` silence, results, colours only on a terminal without `NO_COLOR`).
 */

/** Anything with `write(string)`: `process.stdout`, a test buffer... */
export interface WritableLike {
  write(chunk: string): unknown;
}

/** A readable stream of the user's answers (prompts); `process.stdin` in production. */
export interface ReadableLike {
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
  resume?(): unknown;
  pause?(): unknown;
}

export interface CliIo {
  stdout: WritableLike;
  stderr: WritableLike;
  env: Record<string, string | undefined>;
  /** True when stdout (and stdin) are a terminal: prompts, colours, an updating progress line. */
  isTTY: boolean;
  /** True when stderr is a terminal: `FAILED` is coloured only then (default false). */
  stderrIsTTY?: boolean;
  /** Where prompt answers come from; without it (or without a TTY) deletes need `--force`. */
  stdin?: ReadableLike;
}

const CODES = { red: 31, green: 32, yellow: 33, cyan: 36, bold: 1, dim: 2 } as const;
export type Colour = keyof typeof CODES;

/** Colouring that is the identity when colours are off. */
export function colourizer(enabled: boolean): (colour: Colour, text: string) => string {
  return (colour, text) => (enabled ? `\x1b[${CODES[colour]}m${text}\x1b[0m` : text);
}

/**
 * Colours on a terminal only — stdout's for what goes to stdout, stderr's for what goes to
 * stderr — never when `NO_COLOR` is set (to anything non-empty).
 */
export function coloursEnabled(io: CliIo, stream: 'stdout' | 'stderr' = 'stdout'): boolean {
  const tty = stream === 'stdout' ? io.isTTY : io.stderrIsTTY === true;
  return tty && !(io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '');
}

export class Output {
  readonly colour: (colour: Colour, text: string) => string;

  constructor(
    readonly io: CliIo,
    /** Progress messages (`Creating job 'x'...`, `OK`) are dropped when quiet. */
    readonly quiet: boolean,
  ) {
    this.colour = colourizer(coloursEnabled(io));
  }

  /** A line of results: always printed. */
  line(text = ''): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** Raw text: always printed, no newline added. */
  write(text: string): void {
    this.io.stdout.write(text);
  }

  /** A progress message: dropped when quiet. */
  info(text = ''): void {
    if (!this.quiet) this.line(text);
  }

  /** `OK`, green on a terminal; dropped when quiet. */
  ok(): void {
    this.info(this.colour('green', 'OK'));
  }

  /** A line on stderr. */
  error(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }
}
