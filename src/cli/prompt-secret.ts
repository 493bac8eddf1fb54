/**
 * Asking for a secret value (a password) on a terminal: the question goes to stderr (stdout may
 * carry `-o` output), the answer is read from stdin and never printed. Without a terminal, or
 * with no stdin, a usage error naming the flag that would have given it.
 */
import { UsageError } from './errors.js';
import type { CliIo } from './io.js';
import { readLine } from './prompt.js';

/**
 * Prompts `label: ` on a terminal and resolves the answer (not echoed by us; the terminal may
 * echo what is typed). `flag` names what to give instead when there is no terminal.
 */
export async function promptSecret(io: CliIo, label: string, flag: string, command?: string): Promise<string> {
  if (!io.isTTY || !io.stdin) {
    throw new UsageError(`Required option '${flag}' not specified (a value can be asked for only on a terminal).`, command);
  }
  io.stderr.write(`${label}: `);
  const answer = await readLine(io);
  io.stderr.write('\n');
  if (answer === '') throw new UsageError(`No value was entered for ${flag}.`, command);
  return answer;
}
