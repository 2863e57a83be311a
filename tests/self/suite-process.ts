import { spawn } from 'node:child_process';
import path from 'node:path';

import { createSandbox } from '../../sandbox/app';
import { scanBuffer, describeFinding, type SecretToFind } from '../../support/leak-check';
import { kKeyRoles } from '../../support/settings';
import { kSelfTestSeed } from './harness';

const kProjectDir = path.resolve(__dirname, '..', '..');
const kCli = require.resolve('@playwright/test/cli');

/** The keys and customers of the self-test's sandboxes (seeded, so that the leak check knows them). */
export const kSeeded = createSandbox({ keySeed: kSelfTestSeed }).credentials;

export const kSeededSecrets: SecretToFind[] = (Object.keys(kSeeded.keys) as (keyof typeof kSeeded.keys)[]).map(name => ({
  value: kSeeded.keys[name],
  role: kKeyRoles[name],
}));

/** The variables of a run against `baseUrl` with the seeded keys, as a partner would set them. */
export function seededTarget(baseUrl: string): Record<string, string> {
  return {
    DYSPACH_BASE_URL: baseUrl,
    DYSPACH_API_KEY: kSeeded.keys.active,
    DYSPACH_REVOKED_API_KEY: kSeeded.keys.revoked,
    DYSPACH_CUSTOMER_ID: 'ACME',
  };
}

export interface SuiteRun {
  code: number | null;
  /** stdout and stderr, interleaved as they arrived. */
  output: string;
  durationMs: number;
}

/**
 * Runs `playwright test` (the conformance suite, as a user would) in a child process, with nothing
 * from this environment but PATH and HOME: DYSPACH_ENV_FILE=none, the case's variables, and its own
 * reports folder so that runs in parallel do not share files.
 */
export function runSuiteProcess(
  variables: Record<string, string>,
  reportsDir: string,
  args: string[] = [],
  timeoutMs = 45_000,
): Promise<SuiteRun> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NO_COLOR: '1',
    DYSPACH_ENV_FILE: 'none',
    DYSPACH_REPORTS_DIR: reportsDir,
    ...variables,
  };
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [kCli, 'test', ...args], { cwd: kProjectDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', chunk => (output += String(chunk)));
    child.stderr.on('data', chunk => (output += String(chunk)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', code => {
      clearTimeout(timer);
      resolve({ code, output, durationMs: Date.now() - started });
    });
  });
}

/** The leak check's findings for `text`, as lines that name roles, never keys: `[]` when it holds none. */
export function keysIn(text: string, extra: SecretToFind[] = []): string[] {
  return scanBuffer(Buffer.from(text), [...kSeededSecrets, ...extra], 'the output').map(describeFinding);
}

/** Lines that look like a stack frame (`    at foo (file.ts:1:2)`). */
export function stackLines(text: string): string[] {
  return text.split('\n').filter(line => /^\s+at\s/.test(line));
}
