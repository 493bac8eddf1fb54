/**
 * `ce` run in-process against the local server of a state home, as the end-to-end tests drive
 * it: no server autostart, no colour, not a terminal; stdout and stderr captured together, in
 * the order written.
 */
import { runCli } from '../../src/cli/main.js';
import type { RunCliOptions } from '../../src/cli/context.js';

export async function ceInHome(home: string, argv: string[], options?: RunCliOptions): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (out += s) },
    env: { CEJOBS_HOME: home, CEJOBS_NO_AUTOSTART: '1', PATH: process.env.PATH, NO_COLOR: '1' },
    isTTY: false,
  }, options);
  return { code, out };
}
