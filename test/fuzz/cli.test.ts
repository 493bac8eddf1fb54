/**
 * Fuzzing the CLI's flag parser: random command lines (real command and flag words mixed with
 * hostile values) through `runCli` against a fake API. The exit code is always 0, 1 or 2, no
 * exception escapes, and a usage error (2) names what was wrong (a flag, an argument or a
 * command) and how to get help. Seeded (CEJOBS_FUZZ_SEED); bounded for CI.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from '../cli/harness.js';

const SEED = Number(process.env.CEJOBS_FUZZ_SEED ?? Date.now() % 2 ** 31);
let h: Harness;
const uncaught: unknown[] = [];
const onUncaught = (e: unknown): void => void uncaught.push(e);

beforeAll(async () => {
  h = await new Harness().start();
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
});
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
  await h?.close();
});

const GROUPS = ['job', 'jobrun', 'project', 'configmap', 'secret', 'version', 'help', 'jr', 'j', 'cm', 'proj', 'nope'];
const VERBS = ['create', 'get', 'list', 'update', 'delete', 'submit', 'resubmit', 'logs', 'events', 'restart', 'select', 'current', 'ls', 'del', 'frob'];
const FLAGS = [
  '--name', '-n', '--image', '-i', '--cmd', '-c', '--arg', '-a', '--env', '-e', '--env-from-configmap', '--env-from-secret',
  '--cpu', '--memory', '-m', '--array-indices', '--array-size', '--retrylimit', '--maxexecutiontime', '--mode', '--job',
  '--jobrun', '--instance', '--tail', '--output', '-o', '--format', '--from-literal', '--from-file', '--force', '-f',
  '--mount-configmap', '--mount-secret', '--registry-secret', '--no-wait', '--nw', '--wait-timeout', '--quiet', '-q',
  '--help', '-h', '--all', '--sort-by', '--ephemeral-storage', '--user', '--env-rm', '--arg-clear', '--limit',
  '--bogus', '-Z', '--', '-', '--name=', '--cpu=1', '--output=jsonpath={.name}', '--output=yaml', '--output=table',
];
const VALUES = [
  'x', 'myjob', 'Bad_Name', '', ' ', '-1', '0', '1e9', '0.125', '0.25G', '4G', '1-3,5', '5-2', 'KEY=VAL', '=x', 'K=',
  '$(touch /tmp/pwned)', '; rm -rf /', '../../etc/passwd', 'ü😀', '\u0000', 'a'.repeat(5000), 'json', 'yaml', 'jsonpath={.x',
  'daemon', 'task', 'generic', 'registry', '/bin/sh', '--', 'k=v=w', '%s%s%n', '{{.}}', 'NaN', 'Infinity', '9'.repeat(30),
];

const word = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FLAGS) },
  { weight: 4, arbitrary: fc.constantFrom(...VALUES) },
  { weight: 1, arbitrary: fc.constantFrom(...VERBS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
);
const argv = fc.tuple(fc.constantFrom(...GROUPS), fc.constantFrom(...VERBS), fc.array(word, { maxLength: 10 })).map(([g, v, rest]) => [g, v, ...rest]);

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`hang: ${what}`)), ms))),
  ]);
}

describe(`fuzzing the CLI's flag parser (seed ${SEED})`, () => {
  it('exits 0, 1 or 2, never throws; usage errors name what was wrong', async () => {
    console.log(`cli fuzz seed: ${SEED} (replay with CEJOBS_FUZZ_SEED=${SEED})`);
    let usage = 0;
    await fc.assert(
      fc.asyncProperty(argv, async (args) => {
        // never wait for runs or follow logs: the fake API's runs do not end
        const safe = args.filter((a) => !/^(-w|--wait|--follow)$/.test(a));
        const what = JSON.stringify(safe).slice(0, 400);
        const r = await within(h.run(safe), 10_000, what);
        expect([0, 1, 2], `${what}: ${r.stderr.slice(0, 300)}`).toContain(r.code);
        expect(r.stderr, what).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
        if (r.code === 2) {
          usage++;
          expect(r.stderr, `${what}: ${r.stderr.slice(0, 300)}`).toMatch(/(--?[a-zA-Z]|argument|command|'ce [a-z])/);
          expect(r.stderr, what).toMatch(/--help|help/);
        }
        if (r.code !== 0) expect(r.stderr.trim().length, what).toBeGreaterThan(0);
      }),
      { seed: SEED, numRuns: 1500, endOnFailure: true },
    );
    expect(usage).toBeGreaterThan(100);
    expect(uncaught).toEqual([]);
  }, 120_000);
});
