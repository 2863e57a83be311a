import { defineConfig } from '@playwright/test';

/**
 * The suite's own tests: unit tests of the support code, and the self-test that runs every
 * scenario against the faultless sandbox and against each named fault, in process. Nothing here
 * reads .env or reaches beyond 127.0.0.1.
 */
export default defineConfig({
  testDir: './tests/self',
  outputDir: './reports/self/test-results',
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 60_000,
  // The leak check looks for the seeded keys of the self-test's sandboxes in everything this run wrote.
  reporter: [
    ['list'],
    ['./support/reporters/self-test-table.ts'],
    ['./support/reporters/leak-check.ts', { dirs: ['reports/self'] }],
  ],
  use: { trace: 'off' },
});
