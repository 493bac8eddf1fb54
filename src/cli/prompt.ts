/** Yes/no confirmation of destructive commands (`[y/N]>`), or a refusal when nobody can answer. */
import type { CliIo } from './io.js';
import { UsageError } from './errors.js';

/** Reads one line from `io.stdin` (resolves `''` at end of input). */
export function readLine(io: CliIo): Promise<string> {
  const input = io.stdin!;
  return new Promise((resolve) => {
    let buffer = '';
    const done = (text: string): void => {
      input.removeListener('data', onData as never);
      input.removeListener('end', onEnd as never);
      input.removeListener('close', onEnd as never);
      input.pause?.();
      resolve(text);
    };
    const onData = (chunk: Buffer | string): void => {
      buffer += chunk.toString();
      const nl = buffer.indexOf('\n');
      if (nl >= 0) done(buffer.slice(0, nl).replace(/\r$/, ''));
    };
    const onEnd = (): void => done(buffer);
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('close', onEnd);
    input.resume?.();
  });
}

/**
 * Asks `question [y/N]>` and resolves true for `y`/`yes`. With `force`, true without asking.
 * Without a terminal or stdin, throws a `UsageError` telling to use `--force`.
 */
export async function confirm(io: CliIo, question: string, options: { force: boolean; command: string }): Promise<boolean> {
  if (options.force) return true;
  if (!io.isTTY || !io.stdin) {
    throw new UsageError(`${question.replace(/\?$/, '')}: cannot ask for confirmation without a terminal; use --force (-f) to delete without asking.`, options.command);
  }
  io.stdout.write(`${question} [y/N]> `);
  const answer = (await readLine(io)).trim().toLowerCase();
  return answer === 'y' || answer === 'yes';
}
