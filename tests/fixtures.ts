import path from 'node:path';

import { test as base, expect as baseExpect, type TestInfo } from '@playwright/test';
import * as allure from 'allure-js-commons';

import { kChecks, type CheckId, type Violation } from '../support/checks';
import { summarizeExchange, TransportError, type Exchange } from '../support/exchange';
import { keyedOperations } from '../support/openapi';
import { redact, redactDeep } from '../support/redact';
import { formatViolations } from '../support/report';
import type { RunTarget } from '../support/requests';
import { loadSettings, type Settings } from '../support/settings';
import { kNeedVariables, RunMemory, ScenarioContext, type Host, type Scenario } from '../support/suite';
import { markTargetLost, readSession, targetLost, type Session } from './session';

export const expect = baseExpect.extend({
  toHoldClause(violations: Violation[], check: CheckId) {
    return { pass: violations.length === 0, name: 'toHoldClause', message: () => formatViolations(check, violations) };
  },
});

/** Runs scenarios inside Playwright tests: requests become steps and attachments, violations soft failures. */
class PlaywrightHost implements Host {
  requests = 0;

  constructor(private readonly testInfo: TestInfo) {}

  step<T>(title: string, body: () => Promise<T>): Promise<T> {
    return base.step(redact(title), body, { box: true });
  }

  async recordExchange(ex: Exchange, sentEarlier = false): Promise<void> {
    if (!sentEarlier) this.requests++;
    const name = `${String(ex.seq).padStart(3, '0')} ${ex.request.method} ${ex.label}`;
    await this.testInfo.attach(redact(name), { body: JSON.stringify(redactDeep(summarizeExchange(ex)), null, 2), contentType: 'application/json' });
  }

  async report(check: CheckId, violations: Violation[]): Promise<void> {
    if (violations.length > 0) this.testInfo.annotations.push({ type: 'broken-clause', description: check });
    expect.soft(violations, redact(kChecks[check].failure)).toHoldClause(check);
  }

  annotate(type: 'observed' | 'warning' | 'skipped', description: string): void {
    this.testInfo.annotations.push({ type, description: redact(description) });
  }

  skip(reason: string): never {
    base.skip(true, reason);
    throw new Error('unreachable');
  }
}

interface WorkerFixtures {
  session: Session | undefined;
  /** Tests in a row in this worker that ended in a timeout or a reset connection; two mean the target is gone (see `markTargetLost`). */
  health: { consecutiveTimeouts: number };
  settings: Settings;
  target: RunTarget;
  memory: RunMemory;
  created: Exchange | undefined;
}

interface TestFixtures {
  runScenario: (scenario: Scenario) => Promise<void>;
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  settings: [async ({}, use) => use(loadSettings()), { scope: 'worker' }],
  target: [
    async ({ settings }, use) => {
      if (!settings.baseUrl || !settings.keys) throw new Error('the suite was started without its global setup (playwright.config.ts); run it with `npx playwright test`');
      await use({ baseUrl: settings.baseUrl, keys: settings.keys, customerIds: settings.customerIds, otherOrgCustomerId: settings.otherOrgCustomerId });
    },
    { scope: 'worker' },
  ],
  session: [async ({}, use) => use(readSession()), { scope: 'worker' }],
  memory: [async ({ session }, use) => use(new RunMemory(session && path.join(session.stateDir, 'memory.jsonl'))), { scope: 'worker' }],
  created: [async ({ session }, use) => use(session?.created), { scope: 'worker' }],
  health: [async ({}, use) => use({ consecutiveTimeouts: 0 }), { scope: 'worker' }],

  runScenario: async ({ settings, target, memory, created, session, health, request }, use, testInfo) => {
    await use(async scenario => {
      // Once the target is gone, the remaining tests say so once each instead of failing one by one.
      const lost = targetLost(session);
      base.skip(lost !== undefined, `not run: the target stopped answering earlier in this run — ${lost}`);

      const check = scenario.checks[0];
      // One call: each allure-js-commons call is a message of its own to the reporter.
      await allure.labels(
        { name: 'feature', value: scenario.section },
        { name: 'story', value: check ? kChecks[check].clause : scenario.title },
        { name: 'severity', value: severityOf(scenario) },
      );

      for (const need of scenario.needs ?? []) {
        const missing = need === 'second' ? !target.keys.second : !target.keys.otherOrg || !target.otherOrgCustomerId;
        base.skip(missing, `needs ${kNeedVariables[need]} (optional; see .env.example)`);
      }
      if (scenario.optIn === 'DYSPACH_THROTTLING') base.skip(!settings.throttling, 'opt-in: spends the organisation\'s whole rate-limit window; run with DYSPACH_THROTTLING=1');
      if (scenario.optIn === 'DYSPACH_THOROUGH') base.skip(!settings.thorough, 'opt-in: a thorough probe beyond the 50-request budget; run with DYSPACH_THOROUGH=1');

      const host = new PlaywrightHost(testInfo);
      const ctx = new ScenarioContext({ target, memory, created, operations: keyedOperations(), timeoutMs: settings.requestTimeoutMs, playwright: request, host });
      try {
        await scenario.run(ctx);
        await ctx.finish();
        health.consecutiveTimeouts = 0;
      } catch (error) {
        if (error instanceof TransportError) {
          health.consecutiveTimeouts = error.code === 'timeout' || error.code === 'reset' ? health.consecutiveTimeouts + 1 : 0;
          // A refused or unresolvable target is gone; one slow answer may be the server's reply to a
          // hostile probe, so only a second test in a row that times out (or is reset) ends the run.
          if (error.code === 'refused' || error.code === 'dns' || health.consecutiveTimeouts >= 2) markTargetLost(session, error.message.split('\n')[0]);
        }
        throw error;
      } finally {
        testInfo.annotations.push({ type: 'requests', description: String(host.requests) });
      }
    });
  },
});

/** The report's severity: the most severe of the scenario's checks (authentication failures are blockers). */
function severityOf(scenario: Scenario): string {
  const levels = scenario.checks.map(id => kChecks[id].severity);
  return levels.includes('blocker') ? 'blocker' : levels.includes('critical') ? 'critical' : 'normal';
}

/** A scenario's tags and its clause annotation, for `test(title, details(scenario), …)`. */
export function details(scenario: Scenario) {
  return {
    tag: scenario.tags,
    annotation: [{ type: 'clause', description: scenario.checks.map(id => kChecks[id].clause).join('; ') }],
  };
}
