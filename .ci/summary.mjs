// Prints the plain closing line CI reads: "Tests: N passed, N failed, N skipped".
import fs from 'node:fs';

const file = process.argv[2];
if (!file || !fs.existsSync(file)) {
  console.log('Tests: 0 passed, 1 failed (no test results were written)');
  process.exit(0);
}
const r = JSON.parse(fs.readFileSync(file, 'utf8'));
console.log(`Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + (r.numTodoTests ?? 0)} skipped`);
