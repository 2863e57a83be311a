import { expect, test } from '@playwright/test';

import { kFaults, type FaultName, type FaultSpec } from '../../sandbox/faults';
import type { CheckId } from '../../support/checks';
import { describeOutcome, runSuiteAgainst, runWithThrottling } from './harness';

/**
 * The suite proves its own checks: against the faultless sandbox (both its documented and its
 * alternative legal choices) no check fails; against each named fault exactly the checks that
 * guard the broken clause fail, the owning check first among them. The opt-in throttling scenario
 * runs too, against a small window, for the faultless sandbox and for faults marked `throttling`.
 */
test.describe('the suite against the faultless sandbox', () => {
  for (const choices of ['documented', 'alternative'] as const) {
    test(`raises no alarm when the sandbox makes the ${choices} choices`, async ({ request }, testInfo) => {
      const outcome = await runWithThrottling({ choices }, request);

      testInfo.annotations.push({ type: 'self-test', description: JSON.stringify({ fault: `(none: ${choices})`, expected: [], observed: [...outcome.broken.keys()], requests: outcome.requests }) });
      expect(outcome.preflightError, describeOutcome(outcome)).toBeUndefined();
      expect(outcome.errors, describeOutcome(outcome)).toEqual([]);
      expect([...outcome.broken.keys()], describeOutcome(outcome)).toEqual([]);
      expect(outcome.skipped).toEqual([]);
    });
  }
});

test.describe('each sandbox fault is caught by the check that owns its clause', () => {
  for (const [name, spec] of Object.entries(kFaults) as [FaultName, (typeof kFaults)[FaultName]][]) {
    test(`${name} (${spec.imitates}) fails ${spec.caughtBy[0]}`, async ({ request }, testInfo) => {
      const outcome = (spec as FaultSpec).throttling ? await runWithThrottling({ faults: [name] }, request) : await runSuiteAgainst({ faults: [name] }, request);
      const observed = [...outcome.broken.keys()].sort();
      const expected = [...(spec.caughtBy as readonly CheckId[])].sort();

      testInfo.annotations.push({ type: 'self-test', description: JSON.stringify({ fault: name, expected: spec.caughtBy, observed, requests: outcome.requests }) });
      expect(outcome.preflightError, describeOutcome(outcome)).toBeUndefined();
      expect(outcome.errors, describeOutcome(outcome)).toEqual([]);
      expect(observed, describeOutcome(outcome)).toEqual(expected);
    });
  }
});
