import fs from 'node:fs';
import path from 'node:path';

import { expect, test } from '@playwright/test';
import type { FullConfig, Suite, TestCase, TestResult } from '@playwright/test/reporter';

import SummaryReporter from '../../support/reporters/summary';
import { runState } from '../../support/run-state';
import { sendJson, startStub } from './stub-server';
import { runSuiteProcess, seededTarget } from './suite-process';

/** The run's last lines: warnings (such as an unrequested 429) are printed; a pass on retry is no pass. */

function fakeTest(title: string, outcome: ReturnType<TestCase['outcome']>): TestCase {
  return { title, annotations: [], outcome: () => outcome } as unknown as TestCase;
}

function fakeResult(status: TestResult['status'], retry: number, annotations: TestResult['annotations'] = [], message?: string) {
  return { status, retry, annotations, error: message ? { message } : undefined } as unknown as TestResult;
}

/** Runs the reporter's end of run, returning what it printed and the verdict file it wrote. */
async function finish(reporter: SummaryReporter, status: 'passed' | 'failed') {
  let printed = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => ((printed += chunk), true)) as typeof process.stdout.write;
  try {
    await reporter.onEnd({ status } as never);
    await reporter.onExit();
  } finally {
    process.stdout.write = write;
  }
  const verdict = JSON.parse(fs.readFileSync(path.join(test.info().outputPath('reports'), 'verdict.json'), 'utf8'));
  return { printed, verdict: verdict as { ship: boolean; reasons: string[] } };
}

function startedReporter(): SummaryReporter {
  const reporter = new SummaryReporter({ outputDir: test.info().outputPath('reports') });
  const config = { configFile: path.resolve('playwright.config.ts'), rootDir: path.resolve('tests/contract') } as FullConfig;
  reporter.onBegin(config, { allTests: () => [] } as unknown as Suite);
  return reporter;
}

test.describe('the summary reporter', () => {
  const saved = { ...runState };
  test.beforeEach(() => Object.assign(runState, { setupStarted: true, target: 'http://127.0.0.1:9', targetKind: 'remote', leakFindings: undefined }));
  test.afterEach(() => Object.assign(runState, saved));

  test('prints the warning of an unrequested 429 and still ships: a 429 is not a contract failure', async () => {
    const reporter = startedReporter();
    const warning =
      'unrequested 429 on GET /v1/org/quote/getQuote/K1 (active key); retried once after 1 s. Other traffic may share the organisation\'s window.';
    const annotations = [{ type: 'warning', description: warning }, { type: 'requests', description: '2' }];

    reporter.onTestEnd(fakeTest('fetch', 'expected'), fakeResult('passed', 0, annotations));
    const { printed, verdict } = await finish(reporter, 'passed');

    expect(printed).toContain(`Warning: ${warning}\n`);
    expect(printed).toContain('VERDICT: SHIP — every contract check that ran held (1 test).');
    expect(verdict.ship).toBe(true);
  });

  test('lists a test that passed only on retry as flaky, a reason not to ship', async () => {
    const reporter = startedReporter();
    const flaky = fakeTest('createQuote: the revoked key is answered 401', 'flaky');

    reporter.onTestEnd(flaky, fakeResult('failed', 0, [], 'Revoked key not answered 401'));
    reporter.onTestEnd(flaky, fakeResult('passed', 1));
    const { printed, verdict } = await finish(reporter, 'passed');

    expect(printed).toContain('VERDICT: DON\'T SHIP, because:');
    expect(printed).toContain('  - passed only on retry: createQuote: the revoked key is answered 401\n');
    expect(verdict.ship).toBe(false);
  });

  test('counts the leak check\'s findings as a reason not to ship', async () => {
    const reporter = startedReporter();
    runState.leakFindings = 2;

    const { printed, verdict } = await finish(reporter, 'failed');

    expect(printed).toContain('  - the run\'s reports hold a key (2 findings of the leak check above)');
    expect(verdict.ship).toBe(false);
  });
});

test('a run with --retries where a test passes only on its retry fails, and says why', async ({}, testInfo) => {
  // The first request (the preflight) is served; the revoked key is then accepted once, and rejected on the retry.
  const stub = await startStub((_req, res, index) =>
    index <= 1 ? sendJson(res, 200, { results: [] }) : sendJson(res, 401, { message: 'Invalid API key' }),
  );
  const title = 'createQuote (POST /v1/org/quote/getQuote): the revoked key is answered 401 with the documented body';
  const args = ['--retries', '1', '-g', title.replace(/[()/]/g, '\\$&')];

  const run = await runSuiteProcess(seededTarget(stub.url), testInfo.outputPath('reports'), args);
  await stub.close();

  expect(run.code, run.output).not.toBe(0);
  expect(run.output).toContain('1 flaky');
  expect(run.output).toContain(`  - passed only on retry: ${title}\n`);
  expect(stub.requests).toHaveLength(3);
});
