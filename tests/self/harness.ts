import { request as playwrightRequest, type APIRequestContext } from '@playwright/test';

import { kSelfTestSeed } from '../../sandbox/keys';
import { startSandbox, type RunningSandbox } from '../../sandbox/start';
import type { SandboxOptions } from '../../sandbox/app';
import type { CheckId, Violation } from '../../support/checks';
import type { Exchange } from '../../support/exchange';
import { keyedOperations } from '../../support/openapi';
import { registerKeys } from '../../support/settings';
import { allScenarios } from '../../support/scenarios';
import { pacer, preflight, RunMemory, ScenarioContext, type Host, type Scenario } from '../../support/suite';

class SkipSignal extends Error {}

/** Collects verdicts instead of failing a test: which checks broke, in which scenarios. */
class TallyHost implements Host {
  requests = 0;
  readonly broken = new Map<CheckId, { scenario: string; violations: Violation[] }[]>();
  observations: string[] = [];
  warnings: string[] = [];

  constructor(private readonly scenario: string) {}

  step<T>(_title: string, body: () => Promise<T>): Promise<T> {
    return body();
  }

  async recordExchange(_ex: Exchange, sentEarlier = false): Promise<void> {
    if (!sentEarlier) this.requests++;
  }

  async report(check: CheckId, violations: Violation[]): Promise<void> {
    if (violations.length === 0) return;
    const list = this.broken.get(check) ?? [];
    list.push({ scenario: this.scenario, violations });
    this.broken.set(check, list);
  }

  annotate(type: string, description: string): void {
    (type === 'observed' ? this.observations : this.warnings).push(description);
  }

  skip(reason: string): never {
    throw new SkipSignal(reason);
  }
}

export interface SuiteOutcome {
  /** Check id → the scenarios where it failed. */
  broken: Map<CheckId, { scenario: string; violations: Violation[] }[]>;
  requests: number;
  skipped: string[];
  errors: string[];
  preflightError?: string;
  observations: string[];
  warnings: string[];
}

/**
 * Runs every scenario of the suite, in process, against a sandbox started with `options`; the same
 * scenario code as the Playwright suite, with verdicts tallied instead of reported.
 */
export async function runSuiteAgainst(
  options: SandboxOptions,
  request: APIRequestContext,
  // The thorough probes are part of the suite's proof; only the throttling check needs its own small window.
  select: (scenario: Scenario) => boolean = scenario => scenario.optIn !== 'DYSPACH_THROTTLING',
): Promise<SuiteOutcome> {
  const sandbox: RunningSandbox = await startSandbox({ ...options, keySeed: kSelfTestSeed });
  const outcome: SuiteOutcome = { broken: new Map(), requests: 0, skipped: [], errors: [], observations: [], warnings: [] };
  try {
    registerKeys(sandbox.credentials.keys);
    pacer.reset();
    const target = { baseUrl: sandbox.url, ...sandbox.credentials };
    let created: Exchange;
    try {
      created = await preflight(target, 5000, request);
      outcome.requests++;
    } catch (error) {
      outcome.preflightError = (error as Error).message;
      return outcome;
    }
    const memory = new RunMemory();
    for (const scenario of allScenarios(keyedOperations()).filter(select)) {
      const host = new TallyHost(scenario.id);
      // Each scenario has its own request context and so its own connections, as each Playwright test has.
      const context = await playwrightRequest.newContext();
      const ctx = new ScenarioContext({ target, memory, created, operations: keyedOperations(), timeoutMs: 5000, playwright: context, host });
      try {
        await scenario.run(ctx);
        await ctx.finish();
      } catch (error) {
        if (error instanceof SkipSignal) outcome.skipped.push(`${scenario.id}: ${error.message}`);
        else outcome.errors.push(`${scenario.id}: ${(error as Error).message}`);
      }
      await context.dispose();
      outcome.requests += host.requests;
      outcome.observations.push(...host.observations);
      outcome.warnings.push(...host.warnings);
      for (const [check, list] of host.broken) outcome.broken.set(check, [...(outcome.broken.get(check) ?? []), ...list]);
    }
    return outcome;
  } finally {
    await sandbox.close();
  }
}


/** A window spent in a moment, so that the opt-in throttling scenario runs in about a second. */
export const kThrottlingWindow = { rateLimit: 3, windowSeconds: 1 } as const;

export const isThrottling = (scenario: Scenario) => scenario.optIn === 'DYSPACH_THROTTLING';

/**
 * The default scenarios against `options`, then the throttling scenario against the same sandbox
 * with a small window; one outcome for both.
 */
export async function runWithThrottling(options: SandboxOptions, request: APIRequestContext): Promise<SuiteOutcome> {
  const first = await runSuiteAgainst(options, request);
  const second = await runSuiteAgainst({ ...options, ...kThrottlingWindow }, request, isThrottling);
  const broken = new Map(first.broken);
  for (const [check, list] of second.broken) broken.set(check, [...(broken.get(check) ?? []), ...list]);
  return {
    broken,
    requests: first.requests + second.requests,
    skipped: [...first.skipped, ...second.skipped],
    errors: [...first.errors, ...second.errors],
    preflightError: first.preflightError ?? second.preflightError,
    observations: [...first.observations, ...second.observations],
    warnings: [...first.warnings, ...second.warnings],
  };
}

export function describeOutcome(outcome: SuiteOutcome): string {
  const lines: string[] = [];
  if (outcome.preflightError) lines.push(`preflight: ${outcome.preflightError}`);
  for (const [check, list] of outcome.broken) lines.push(`${check}: ${list.map(item => `${item.scenario} (${item.violations[0].summary})`).join('; ')}`);
  for (const error of outcome.errors) lines.push(`error: ${error}`);
  return lines.join('\n') || 'no check failed';
}

export { kSelfTestSeed };
