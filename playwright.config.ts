import path from 'node:path';

import { defineConfig } from '@playwright/test';
import dotenv from 'dotenv';

// DYSPACH_ENV_FILE picks another file (e.g. .env.staging); `none` reads none (the suite's own tests use it).
const envFile = process.env.DYSPACH_ENV_FILE ?? '.env';
if (envFile !== 'none') dotenv.config({ path: path.resolve(__dirname, envFile), quiet: true });

/**
 * The conformance suite. With no DYSPACH_BASE_URL it runs against the embedded local sandbox,
 * which the global setup starts. One worker by default: the target's rate limit is shared by the
 * whole organisation, and the run's first request creates the quote every fetch check reads.
 */
export default defineConfig({
  testDir: './tests/contract',
  outputDir: './reports/test-results',
  globalSetup: require.resolve('./tests/global-setup'),
  fullyParallel: false,
  workers: 1,
  // A retry spends quota and can hide a real failure; with --retries, a pass on retry is reported as flaky.
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 150_000,
  reporter: [
    ['list'],
    ['html', { outputFolder: './reports/html', open: 'never' }],
    ['junit', { outputFile: './reports/junit.xml' }],
    ['allure-playwright', { resultsDir: './reports/allure-results', detail: false }],
    ['./support/reporters/summary.ts'],
  ],
  use: {
    // Playwright's traces record request headers, and so the key: tracing stays off.
    trace: 'off',
  },
});
