import { keyedOperations } from '../../support/openapi';
import { errorScenarios } from '../../support/scenarios/errors';
import { details, test } from '../fixtures';

const scenarios = errorScenarios(keyedOperations());
for (const section of new Set(scenarios.map(scenario => scenario.section)))
  test.describe(section, () => {
    for (const scenario of scenarios.filter(candidate => candidate.section === section))
      test(scenario.title, details(scenario), async ({ runScenario }) => runScenario(scenario));
  });
