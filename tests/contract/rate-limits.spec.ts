import { keyedOperations } from '../../support/openapi';
import { rateLimitScenarios } from '../../support/scenarios/rate-limits';
import { details, test } from '../fixtures';

const scenarios = rateLimitScenarios(keyedOperations());
for (const section of new Set(scenarios.map(scenario => scenario.section)))
  test.describe(section, () => {
    for (const scenario of scenarios.filter(candidate => candidate.section === section))
      test(scenario.title, details(scenario), async ({ runScenario }) => runScenario(scenario));
  });
