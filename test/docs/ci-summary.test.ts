/**
 * The last line of `.ci/run` is what counts a run. A test file that fails before its tests run
 * (a beforeAll that throws, e.g. on a full disk) leaves its tests "skipped" and none "failed";
 * the line must still say failed, or a red run reads "0 failed".
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const script = join(__dirname, '..', '..', '.ci', 'summary.cjs');
const dir = mkdtempSync(join(tmpdir(), 'ci-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function summary(report: object | null, extra?: number): string {
  const file = join(dir, `r${Math.random().toString(36).slice(2)}.json`);
  if (report) writeFileSync(file, JSON.stringify(report));
  const args = [script, file, ...(extra === undefined ? [] : [String(extra)])];
  return execFileSync(process.execPath, args, { encoding: 'utf8' }).trim();
}

const passedFile = { status: 'passed', assertionResults: [{ status: 'passed' }] };

describe('.ci/summary.cjs', () => {
  it('counts a file that failed before its tests ran as a failure', () => {
    const brokenFile = { status: 'failed', assertionResults: [{ status: 'skipped' }, { status: 'skipped' }] };
    const report = {
      numPassedTests: 1,
      numFailedTests: 0,
      numPendingTests: 2,
      numTodoTests: 0,
      testResults: [passedFile, brokenFile],
    };
    expect(summary(report)).toBe('1 passed, 1 failed, 2 skipped');
  });

  it('does not count a file twice when its failure is already a failed test', () => {
    const failedTest = { status: 'failed', assertionResults: [{ status: 'failed' }, { status: 'passed' }] };
    const report = {
      numPassedTests: 2,
      numFailedTests: 1,
      numPendingTests: 0,
      numTodoTests: 0,
      testResults: [passedFile, failedTest],
    };
    expect(summary(report)).toBe('2 passed, 1 failed');
  });

  it('says failed when there is no report, and adds failures found outside vitest', () => {
    expect(summary(null)).toBe('0 passed, 1 failed');
    const report = {
      numPassedTests: 5,
      numFailedTests: 0,
      numPendingTests: 0,
      numTodoTests: 1,
      testResults: [passedFile],
    };
    expect(summary(report, 2)).toBe('5 passed, 2 failed, 1 skipped');
  });
});
