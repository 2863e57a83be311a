import fs from 'node:fs';
import path from 'node:path';

import type { FullConfig, FullResult, Reporter, Suite, TestCase, TestResult } from '@playwright/test/reporter';

import { runState } from '../run-state';
import { kChecks, type CheckId } from '../checks';
import { keyedOperations } from '../openapi';
import { redact } from '../redact';
import { allScenarios } from '../scenarios';

/**
 * Ends every run with the request count and one verdict line: ship, or don't ship because of the
 * listed clauses. The same verdict is written to reports/verdict.json for CI gates. The verdict is
 * given in onExit, once every reporter's onEnd has run, so that it counts the leak check's result.
 */
export default class SummaryReporter implements Reporter {
  private requests = 0;
  private readonly broken = new Map<CheckId, Set<string>>();
  private readonly flaky: string[] = [];
  private readonly skipped = new Map<string, number>();
  private readonly warnings = new Set<string>();
  private readonly errors: string[] = [];
  private outputDir = 'reports';
  private result?: FullResult;

  constructor(private readonly options: { outputDir?: string } = {}) {}

  private partial?: string;

  onBegin(config: FullConfig, suite: Suite): void {
    const configDir = config.configFile ? path.dirname(config.configFile) : config.rootDir;
    this.outputDir = path.resolve(configDir, this.options.outputDir ?? 'reports');
    const selected = suite.allTests().length;
    const total = allScenarios(keyedOperations()).length;
    if (config.shard) this.partial = `shard ${config.shard.current} of ${config.shard.total}: ${selected} of ${total} tests`;
    else if (selected > 0 && selected < total) this.partial = `${selected} of ${total} tests selected`;
  }

  private passed = 0;
  private skippedCount = 0;

  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.status === 'passed' && test.outcome() !== 'flaky') this.passed++;
    if (result.status === 'skipped') this.skippedCount++;
    for (const annotation of result.annotations) {
      if (annotation.type === 'requests') this.requests += Number(annotation.description ?? 0);
      if (annotation.type === 'warning' && annotation.description) this.warnings.add(annotation.description);
      if (annotation.type === 'broken-clause' && result.status !== 'skipped') {
        const check = annotation.description as CheckId;
        const titles = this.broken.get(check) ?? new Set<string>();
        titles.add(test.title);
        this.broken.set(check, titles);
      }
    }
    if (result.status === 'skipped') {
      const reason = test.annotations.find(a => a.type === 'skip')?.description ?? result.annotations.find(a => a.type === 'skip')?.description ?? 'skipped';
      this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + 1);
    }
    if (result.status !== 'passed' && result.status !== 'skipped' && !result.annotations.some(a => a.type === 'broken-clause'))
      this.errors.push(`${test.title}: ${(result.error?.message ?? result.status).split('\n')[0]}`);
    // retries is 0 in the config; with --retries, a pass after a failed attempt is no pass.
    const passedOnRetry = result.status === 'passed' && (result.retry > 0 || test.outcome() === 'flaky');
    if (passedOnRetry && !this.flaky.includes(test.title)) this.flaky.push(test.title);
  }

  async onEnd(result: FullResult): Promise<{ status: FullResult['status'] } | undefined> {
    // A copy: Playwright writes a reporter's returned status into the object it passes on.
    this.result = { ...result };
    // A gate that checked nothing must not pass: a selection that skipped every test fails the run.
    if (result.status === 'passed' && this.passed === 0 && runState.target !== undefined) return { status: 'failed' };
    return undefined;
  }

  async onExit(): Promise<void> {
    // Listing tests (--list) or a run whose configuration did not load: no run, no verdict.
    if (!runState.setupStarted) return;
    const result = this.result ?? { status: 'failed' };
    const lines: string[] = [''];
    const received = runState.sandboxReceived ?? runState.sandboxStats?.received;
    const sent = this.requests + runState.preflightRequests;
    if (runState.target !== undefined) lines.push(`Requests sent to the target: ${sent}${received !== undefined ? ` (the local sandbox received ${received})` : ''}`);
    for (const warning of this.warnings) lines.push(`Warning: ${warning}`);
    for (const [reason, count] of this.skipped) lines.push(`Skipped ${count}: ${reason}`);

    const reasons: string[] = [];
    for (const [check, titles] of this.broken) reasons.push(`${kChecks[check].failure} — ${kChecks[check].clause} (${titles.size} test${titles.size === 1 ? '' : 's'})`);
    for (const error of this.errors) reasons.push(`could not complete: ${error}`);
    if (this.flaky.length) reasons.push(`passed only on retry: ${this.flaky.join('; ')}`);
    const leaks = runState.leakFindings;
    if (leaks) reasons.push(`the run's reports hold a key (${leaks} finding${leaks === 1 ? '' : 's'} of the leak check above)`);
    if (result.status === 'interrupted') reasons.push('the run was interrupted');
    if (result.status === 'timedout') reasons.push('the run timed out');

    const onSandbox = runState.targetKind === 'sandbox' ? ' (against the embedded local sandbox, not a deployment)' : '';
    if (runState.target === undefined) {
      reasons.push('the run did not start (see the message above)');
      lines.push('VERDICT: DON\'T SHIP — the run did not start (see the message above).');
    } else if (reasons.length === 0 && result.status === 'passed' && this.passed === 0) {
      reasons.push('no contract check ran');
      lines.push(`VERDICT: DON'T SHIP — no contract check ran${this.skippedCount ? ` (all ${this.skippedCount} selected tests were skipped, see above)` : ''}.`);
    } else if (reasons.length === 0 && result.status === 'passed') {
      const skipped = this.skippedCount ? `; ${this.skippedCount} test${this.skippedCount === 1 ? ' was' : 's were'} skipped, see above` : '';
      const partial = this.partial ? `; partial run: ${this.partial}` : '';
      lines.push(`VERDICT: SHIP — every contract check that ran held (${this.passed} test${this.passed === 1 ? '' : 's'}${skipped}${partial})${onSandbox}.`);
    } else {
      lines.push(`VERDICT: DON'T SHIP${onSandbox}, because:`);
      for (const reason of reasons.length ? reasons : ['the run failed (see above)']) lines.push(`  - ${reason}`);
    }
    // Written after the leak check has run: redacted, as a test title or an error line could carry a key.
    process.stdout.write(`${redact(lines.join('\n'))}\n`);

    fs.mkdirSync(this.outputDir, { recursive: true });
    fs.writeFileSync(
      path.join(this.outputDir, 'verdict.json'),
      `${redact(JSON.stringify({ ship: reasons.length === 0 && result.status === 'passed' && runState.target !== undefined, target: runState.targetKind ?? 'unknown', partial: this.partial ?? false, requests: sent, reasons }, null, 2))}\n`,
    );
  }

  printsToStdio(): boolean {
    return false;
  }
}
