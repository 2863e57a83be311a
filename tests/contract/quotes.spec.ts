import { keyedOperations } from '../../support/openapi';
import { quoteScenarios } from '../../support/scenarios/quotes';
import { details, test } from '../fixtures';

const scenarios = quoteScenarios(keyedOperations());
for (const section of new Set(scenarios.map(scenario => scenario.section)))
  test.describe(section, () => {
    for (const scenario of scenarios.filter(candidate => candidate.section === section))
      test(scenario.title, details(scenario), async ({ runScenario }) => runScenario(scenario));
  });
