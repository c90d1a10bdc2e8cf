// Prints the plain `N passed, N failed[, N skipped]` line from vitest's JSON report.
// Usage: node .ci/summary.cjs REPORT.json [EXTRA_FAILED]
const fs = require('fs');

const [file, extra] = process.argv.slice(2);
if (!file || !fs.existsSync(file)) {
  process.stdout.write('0 passed, 1 failed\n');
  process.exit(0);
}
const r = JSON.parse(fs.readFileSync(file, 'utf8'));
const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
// A file that fails before its tests run (a beforeAll, an import, a full disk) reports its
// tests as skipped and none as failed: count each such file as one failure, or the line
// would read "0 failed" for a red run.
const brokenFiles = (r.testResults || []).filter(
  (f) => f.status === 'failed' && !(f.assertionResults || []).some((a) => a.status === 'failed'),
).length;
let line = `${r.numPassedTests} passed, ${r.numFailedTests + brokenFiles + Number(extra || 0)} failed`;
if (skipped) line += `, ${skipped} skipped`;
process.stdout.write(`${line}\n`);
