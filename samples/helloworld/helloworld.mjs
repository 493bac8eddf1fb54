#!/usr/bin/env node
/**
 * helloworld — a dependency-free Node.js stand-in for Code Engine's `icr.io/codeengine/helloworld`
 * image in job mode, for cejobs samples and tests. Run it as `node samples/helloworld/helloworld.mjs`
 * (any working directory).
 *
 * Mode: when `JOB_INDEX` is set (non-empty) it behaves like a job instance; otherwise it prints a
 * short usage note and exits 0 (the original's HTTP app and fleet modes are not reproduced).
 *
 * Each round (one in task mode, forever in daemon mode):
 *   1. sleep `SLEEP` seconds: `RANDOM` = a random 10–29 s, a number (fractions allowed), or when
 *      unset/invalid 0 in task mode and 60 in daemon mode;
 *   2. print `Hello from helloworld! I'm a <JOB_MODE> job! Index: <JOB_INDEX> of <JOB_ARRAY_SIZE>`
 *      and a blank line;
 *   3. print `<MSG>:` (default `Hello <TARGET|World> from:`), an 8-line "Code Engine" banner,
 *      `Some Env Vars:`, `--------------` and the sorted `NAME=VALUE` environment. As in the
 *      original, when `SHOW` is unset the variable `z=Set env var 'SHOW' to see all variables` is
 *      added and every variable is listed; when `SHOW` is set, `KUBERNETES*` ones are hidden (the
 *      original's job branch passes the flag inverted);
 *   4. fail — print `Crashing...`, exit 1 — when `CRASH` or `FAIL` is non-empty, or `SUCCESS_RATE`
 *      (0–1, invalid ⇒ 0.5) loses a random draw;
 *   5. task mode (`JOB_MODE` unset or `task`): exit 0. Daemon mode: next round.
 *
 * cejobs test knobs beyond the original (deterministic failures):
 *   FAIL_INDICES="3,7"     fail when JOB_INDEX is one of the listed indices;
 *   FAIL_UNTIL_RETRY=<n>   fail while JOB_INDEX_RETRY_COUNT (default 0) is below n, so the
 *                          attempt with retry count n succeeds;
 *   FAIL_UNTIL_RETRY_INDICES="4,9"  limits FAIL_UNTIL_RETRY to these indices (default: all).
 *
 * SIGTERM (and SIGINT) end it promptly with exit code 0: a daemon stopped on purpose. Output
 * goes through process.stdout.write and the process ends naturally with process.exitCode, so
 * nothing written is lost on exit.
 */

const BANNER = [
  "+----------------------------------------------------+",
  "|   ___         _       ___           _              |",
  "|  / __|___  __| |___  | __|_ _  __ _(_)_ _  ___     |",
  "| | (__/ _ \\/ _` / -_) | _|| ' \\/ _` | | ' \\/ -_)    |",
  "|  \\___\\___/\\__,_\\___| |___|_||_\\__, |_|_||_\\___|    |",
  "|                               |___/   (cejobs)     |",
  "|                                                    |",
  "+----------------------------------------------------+",
];

const env = process.env;
let stopping = false;
let cancelSleep = () => {};

function write(text) {
  return new Promise((resolve) => {
    process.stdout.write(text, () => resolve());
  });
}

function sleep(seconds) {
  if (!(seconds > 0)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, seconds * 1000);
    function done() {
      clearTimeout(timer);
      cancelSleep = () => {};
      resolve();
    }
    cancelSleep = done;
  });
}

function sleepSeconds(daemon) {
  const raw = (env.SLEEP ?? '').trim();
  if (raw.toUpperCase() === 'RANDOM') return 10 + Math.floor(Math.random() * 20);
  const n = raw === '' ? NaN : Number(raw);
  if (Number.isFinite(n) && n >= 0) return n;
  return daemon ? 60 : 0;
}

function shouldFail() {
  if (env.CRASH || env.FAIL) return true;
  const index = (env.JOB_INDEX ?? '').trim();
  const failIndices = (env.FAIL_INDICES ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (failIndices.includes(index)) return true;
  const untilIndices = (env.FAIL_UNTIL_RETRY_INDICES ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (env.FAIL_UNTIL_RETRY && (untilIndices.length === 0 || untilIndices.includes(index))) {
    const until = Number(env.FAIL_UNTIL_RETRY);
    const retry = Number(env.JOB_INDEX_RETRY_COUNT || '0');
    if (Number.isFinite(until) && Number.isFinite(retry) && retry < until) return true;
  }
  if (env.SUCCESS_RATE !== undefined && env.SUCCESS_RATE !== '') {
    let rate = Number(env.SUCCESS_RATE);
    if (!Number.isFinite(rate) || rate < 0 || rate > 1) rate = 0.5;
    if (Math.random() >= rate) return true;
  }
  return false;
}

function message(envList) {
  const msg = env.MSG || `Hello ${env.TARGET || 'World'} from`;
  const lines = [`${msg}:`, ...BANNER, '', 'Some Env Vars:', '--------------', ...envList, ''];
  return lines.join('\n') + '\n';
}

async function main() {
  const show = env.SHOW !== undefined && env.SHOW !== '';
  if (!show) env.z = "Set env var 'SHOW' to see all variables";
  // Snapshot once, like the original.
  const envList = Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .filter((kv) => !show || !kv.startsWith('KUBERNETES'))
    .sort();
  const mode = env.JOB_MODE || 'task';
  const daemon = mode === 'daemon';

  for (;;) {
    await sleep(sleepSeconds(daemon));
    if (stopping) return;
    await write(
      `Hello from helloworld! I'm a ${mode} job! Index: ${env.JOB_INDEX} of ${env.JOB_ARRAY_SIZE ?? ''}\n\n` + message(envList),
    );
    if (stopping) return;
    if (shouldFail()) {
      await write('Crashing...\n');
      process.exitCode = 1;
      return;
    }
    if (!daemon) return;
  }
}

function stop() {
  stopping = true;
  process.exitCode = 0;
  cancelSleep();
}

if (!env.JOB_INDEX) {
  process.stdout.write(
    [
      'helloworld: JOB_INDEX is not set, so there is nothing to do.',
      'This sample is meant to run as a cejobs job instance, which sets JOB_INDEX, JOB_ARRAY_SIZE,',
      'JOB_MODE and JOB_INDEX_RETRY_COUNT. To try it by hand:',
      '  JOB_INDEX=0 JOB_ARRAY_SIZE=1 JOB_MODE=task node samples/helloworld/helloworld.mjs',
      'Knobs: SLEEP, MSG, TARGET, SHOW, CRASH, FAIL, SUCCESS_RATE, FAIL_INDICES, FAIL_UNTIL_RETRY, FAIL_UNTIL_RETRY_INDICES',
      '(see samples/helloworld/README.md).',
      '',
    ].join('\n'),
  );
} else {
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.on('error', () => stop()); // reader went away (EPIPE): nothing left to do
  main().catch((e) => {
    process.stderr.write(`helloworld: ${e?.stack ?? e}\n`);
    process.exitCode = 2;
  });
}
