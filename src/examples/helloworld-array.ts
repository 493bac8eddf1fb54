/**
 * The README's first command: runs Code Engine's helloworld sample as a 5-index array job on
 * this machine (process driver, SQLite in the state home), with index 3 failing once and
 * recovering on its retry, then prints the run's status, events and logs the way
 * `ce jobrun get` / `ce jobrun logs` do.
 *
 *     npm start                       # state in ~/.cejobs (or $CEJOBS_HOME)
 *     npm start -- --indices 0-9      # another array spec
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLocalEngine } from '../server/local.js';
import { formatRecord } from '../logs/reader.js';
import { isCejobsError } from '../domain/errors.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const sample = path.resolve(here, '../../samples/helloworld/helloworld.mjs');

function argValue(flag: string, fallback: string): string {
  const i = process.argv.indexOf(flag);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<void> {
  const indices = argValue('--indices', '0-4');
  const engine = await openLocalEngine();
  try {
    const job = {
      run_commands: [process.execPath, sample],
      scale_array_spec: indices,
      scale_cpu_limit: '0.125',
      scale_memory_limit: '0.25G',
      run_env_variables: [
        { type: 'literal', name: 'FAIL_UNTIL_RETRY', value: '1' },
        { type: 'literal', name: 'FAIL_UNTIL_RETRY_INDICES', value: '3' },
      ],
    };
    let exists = true;
    try {
      engine.getJob('default', 'helloworld');
    } catch {
      exists = false;
    }
    if (exists) {
      console.log("Updating job 'helloworld'...");
      engine.updateJob('default', 'helloworld', job, '*');
    } else {
      console.log("Creating job 'helloworld'...");
      engine.createJob('default', { name: 'helloworld', ...job });
    }
    console.log('OK\n');

    const run = engine.submitRun('default', { job_name: 'helloworld' });
    console.log(`Submitting job run '${run.name}' with array indices ${indices} on the ${engine.driver.name} driver...`);
    const off = engine.on('event', (e) => {
      if (e.runName === run.name && e.instanceName && e.type === 'Warning') console.log(`  ${e.reason}: ${e.message}`);
    });
    const done = await engine.waitForRun('default', run.name);
    off();
    const d = done.status_details;
    console.log(`\nJob run '${done.name}' ${done.status}.`);
    console.log(`Instance statuses: Succeeded: ${d.succeeded}  Failed: ${d.failed}`);
    if (d.succeeded_indices) console.log(`Succeeded indices: ${d.succeeded_indices}`);
    if (d.failed_indices) console.log(`Failed indices: ${d.failed_indices}`);

    console.log('\nInstances:');
    for (const i of engine.listInstances('default', run.name)) {
      const reason = i.last_failure_reason ? ` (${i.last_failure_reason})` : '';
      console.log(`  ${i.name.padEnd(36)} ${i.state}${reason}`);
    }

    console.log('\nLogs:');
    for (const log of await engine.readLogs('default', run.name)) {
      console.log(`${log.instance}/${log.container}:`);
      for (const r of log.records) console.log(formatRecord(r));
      console.log('');
    }
    process.exitCode = done.status === 'completed' ? 0 : 1;
  } finally {
    await engine.close();
  }
}

main().catch((e) => {
  console.error(isCejobsError(e) ? `FAILED\n${e.message}` : e);
  process.exitCode = 1;
});
