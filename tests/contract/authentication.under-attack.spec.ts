import { keyedOperations } from '../../support/openapi';
import { attackScenarios } from '../../support/scenarios/attacks';
import { details, test } from '../fixtures';

test.describe('Authentication under attack', () => {
  for (const scenario of attackScenarios(keyedOperations()))
    test(scenario.title, details(scenario), async ({ runScenario }) => runScenario(scenario));
});
