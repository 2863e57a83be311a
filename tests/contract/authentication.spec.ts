import { keyedOperations } from '../../support/openapi';
import { authenticationScenarios } from '../../support/scenarios/authentication';
import { details, test } from '../fixtures';

test.describe('Authentication', () => {
  for (const scenario of authenticationScenarios(keyedOperations()))
    test(scenario.title, details(scenario), async ({ runScenario }) => runScenario(scenario));
});
