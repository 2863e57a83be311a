import { keyedOperations, type Operation } from '../openapi';
import type { Scenario } from '../suite';
import { attackScenarios } from './attacks';
import { authenticationScenarios } from './authentication';
import { errorScenarios } from './errors';
import { quoteScenarios } from './quotes';
import { rateLimitScenarios } from './rate-limits';

/**
 * Every scenario of the suite, in run order. Later scenarios reuse exchanges that earlier ones
 * recorded (one request, many checks), so the order matters for the request count, not for verdicts.
 */
export function allScenarios(ops: Operation[] = keyedOperations()): Scenario[] {
  return [...authenticationScenarios(ops), ...attackScenarios(ops), ...errorScenarios(ops), ...quoteScenarios(ops), ...rateLimitScenarios(ops)];
}
