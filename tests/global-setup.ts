import fs from 'node:fs';
import path from 'node:path';

import type { FullConfig } from '@playwright/test';

import { isFaultName, kFaults } from '../sandbox/faults';
import { startSandbox, type RunningSandbox } from '../sandbox/start';
import { describeFinding, scanFiles } from '../support/leak-check';
import { kDefaultOutputFolders, reportsDirectory } from '../support/paths';
import { secretsOfThisRun } from '../support/reporters/leak-check';
import { redact } from '../support/redact';
import { closestMatch, ConfigError, loadSettings, registerKeys, type LocalSandboxHandoff } from '../support/settings';
import { preflight, PreflightError } from '../support/suite';
import { runState } from '../support/run-state';
import { removeSession, writeSession, type Session } from './session';

/**
 * Runs once, in the runner process, before any test: checks the configuration, starts the embedded
 * sandbox when no base URL is set, and sends the run's first request. Any problem here ends the run
 * with one message and no test is run.
 */
export default async function globalSetup(config: FullConfig) {
  try {
    return await setUp(config);
  } catch (error) {
    throw forTheUser(error);
  }
}

/**
 * Playwright prints an error thrown here as `<name>: <message>` followed by its stack. A problem the
 * user has to fix (configuration, an unreachable or misbehaving target) reads as its message alone.
 */
function forTheUser(error: unknown): unknown {
  if (!(error instanceof ConfigError || error instanceof PreflightError)) return error;
  const clean = new Error(redact(error.message));
  clean.name = '';
  clean.stack = clean.message;
  return clean;
}

/**
 * `--reporter` on the command line replaces every configured reporter, the leak check among them.
 * Then the same scan runs as the process exits, after whatever reporters were chosen have written.
 */
function guardAgainstLeaksOnExit(config: FullConfig): void {
  const configDir = config.configFile ? path.dirname(config.configFile) : config.rootDir;
  const roots = [
    reportsDirectory(configDir),
    // Playwright's and Allure's own default folders, where `--reporter=html` and the like write.
    ...kDefaultOutputFolders.map(folder => path.resolve(configDir, folder)),
    ...config.projects.map(project => project.outputDir),
  ];
  process.once('exit', () => {
    if (runState.leakFindings !== undefined) return;
    const findings = scanFiles(roots, secretsOfThisRun());
    const note = 'Leak check: run as the process exited, since --reporter replaced the configured reporters';
    if (findings.length === 0) return void process.stderr.write(`${note}: no key found in the reports.\n`);
    process.stderr.write([`${note}:`, ...findings.map(describeFinding), `Leak check failed: keys were found in ${findings.length} place(s) in what this run left behind.`].join('\n') + '\n');
    process.exitCode = 1;
  });
}

/** Allure results accumulate across runs unless removed, and a stale verdict could pass a gate: each run starts without them. */
function clearPreviousRun(config: FullConfig): void {
  const configDir = config.configFile ? path.dirname(config.configFile) : config.rootDir;
  const reports = reportsDirectory(configDir);
  fs.rmSync(path.join(reports, 'allure-results'), { recursive: true, force: true });
  fs.rmSync(path.join(reports, 'verdict.json'), { force: true });
}

async function setUp(config: FullConfig) {
  runState.setupStarted = true;
  guardAgainstLeaksOnExit(config);
  clearPreviousRun(config);
  const settings = loadSettings();
  const unknownFaults = settings.targetKind === 'sandbox' ? settings.sandbox.faults.filter(name => !isFaultName(name)) : [];
  if (unknownFaults.length > 0)
    throw new ConfigError(
      unknownFaults.map(name => {
        const suggestion = closestMatch(name, Object.keys(kFaults));
        return `DYSPACH_SANDBOX_FAULTS names an unknown fault "${name}".${suggestion ? ` Did you mean ${suggestion}?` : ''} \`npm run sandbox -- --list-faults\` lists them.`;
      }),
    );
  if (settings.targetKind === 'remote' && config.workers > 1)
    settings.warnings.push(
      `${config.workers} workers: each sends its own first request and the organisation's window is shared, so a run may exceed the 50-request budget or trip the rate limit. Use --workers 1 against a live target.`,
    );
  for (const warning of settings.warnings) process.stderr.write(`Warning: ${redact(warning)}\n`);

  let sandbox: RunningSandbox | undefined;
  if (settings.targetKind === 'sandbox') {
    sandbox = await startSandbox({
      faults: settings.sandbox.faults,
      choices: settings.sandbox.choices,
      rateLimit: settings.sandbox.rateLimit,
      windowSeconds: settings.sandbox.windowSeconds,
    });
    const handoff: LocalSandboxHandoff = { baseUrl: sandbox.url, ...sandbox.credentials };
    registerKeys(handoff.keys);
    process.env.DYSPACH_LOCAL_SANDBOX = JSON.stringify(handoff);
    settings.baseUrl = sandbox.url;
    settings.keys = handoff.keys;
    settings.customerIds = handoff.customerIds;
    settings.otherOrgCustomerId = handoff.otherOrgCustomerId;
  }

  const extras = [
    sandbox ? 'embedded local sandbox, as no DYSPACH_BASE_URL is set' : undefined,
    sandbox && sandbox.faults.length ? `faults: ${sandbox.faults.join(', ')}` : undefined,
    sandbox && settings.sandbox.choices !== 'documented' ? `${settings.sandbox.choices} choices` : undefined,
  ].filter(Boolean);
  // stderr: stdout belongs to the reporters (`--reporter=json > report.json` must stay valid JSON).
  process.stderr.write(redact(`Dyspach conformance suite → ${settings.baseUrl}${extras.length ? ` (${extras.join('; ')})` : ''}\n`));

  let session: Session | undefined;
  runState.targetKind = settings.targetKind;
  runState.sandboxStats = sandbox?.stats;
  try {
    const created = await preflight(
      { baseUrl: settings.baseUrl!, keys: settings.keys!, customerIds: settings.customerIds, otherOrgCustomerId: settings.otherOrgCustomerId },
      settings.requestTimeoutMs,
    );
    runState.preflightRequests = 1;
    // Only now has the run started: the summary says "did not start" for anything that ends it earlier.
    runState.target = settings.baseUrl;
    session = writeSession(created);
  } catch (error) {
    await sandbox?.close();
    throw error;
  }

  return async () => {
    removeSession(session);
    if (sandbox) {
      runState.sandboxReceived = sandbox.stats.received;
      await sandbox.close();
    }
  };
}
