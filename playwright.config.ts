import path from 'node:path';

import { defineConfig } from '@playwright/test';
import dotenv from 'dotenv';

import { kDefaultOutputFolders, reportsDirectory } from './support/paths';

// DYSPACH_ENV_FILE picks another file (e.g. .env.staging); `none` reads none (the suite's own tests use it).
const envFile = process.env.DYSPACH_ENV_FILE ?? '.env';
if (envFile !== 'none') dotenv.config({ path: path.resolve(__dirname, envFile), quiet: true });
// Every file a run leaves behind goes under this folder, which the leak check scans at the end.
const reportsDir = reportsDirectory(__dirname);

/**
 * The conformance suite. With no DYSPACH_BASE_URL it runs against the embedded local sandbox,
 * which the global setup starts. One worker by default: the target's rate limit is shared by the
 * whole organisation, and the run's first request creates the quote every fetch check reads.
 */
export default defineConfig({
  testDir: './tests/contract',
  projects: [{ name: 'contract' }],
  outputDir: path.join(reportsDir, 'test-results'),
  globalSetup: require.resolve('./tests/global-setup'),
  fullyParallel: false,
  workers: 1,
  // A retry spends quota and can hide a real failure; with --retries, a pass on retry is reported as flaky.
  retries: 0,
  failOnFlakyTests: true,
  forbidOnly: !!process.env.CI,
  timeout: 150_000,
  reporter: [
    // First, so that every other reporter reads errors and output with the keys already redacted.
    ['./support/reporters/redact.ts'],
    ['list'],
    ['html', { outputFolder: path.join(reportsDir, 'html'), open: 'never' }],
    ['junit', { outputFile: path.join(reportsDir, 'junit.xml') }],
    ['allure-playwright', { resultsDir: path.join(reportsDir, 'allure-results'), detail: false }],
    ['./support/reporters/summary.ts', { outputDir: reportsDir }],
    // Last, so that it reads what the others wrote: fails the run if any report holds a key.
    ['./support/reporters/leak-check.ts', { dirs: [reportsDir, ...kDefaultOutputFolders] }],
  ],
  use: {
    // Playwright's traces record request headers, and so the key: tracing stays off. With --trace on,
    // the leak check finds the key in the trace and fails the run.
    trace: 'off',
  },
});
