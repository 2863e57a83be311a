import type { FullConfig } from '@playwright/test';

import { startSandbox, type RunningSandbox } from '../sandbox/start';
import { redact } from '../support/redact';
import { loadSettings, registerKeys, type LocalSandboxHandoff } from '../support/settings';
import { preflight } from '../support/suite';
import { runState } from '../support/run-state';
import { writeSession } from './session';

/**
 * Runs once, in the runner process, before any test: checks the configuration, starts the embedded
 * sandbox when no base URL is set, and sends the run's first request. Any problem here ends the run
 * with one message and no test is run.
 */
export default async function globalSetup(_config: FullConfig) {
  const settings = loadSettings();
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
  process.stdout.write(`Dyspach conformance suite → ${settings.baseUrl}${extras.length ? ` (${extras.join('; ')})` : ''}\n`);

  runState.target = settings.baseUrl;
  runState.targetKind = settings.targetKind;
  runState.sandboxStats = sandbox?.stats;
  try {
    const created = await preflight(
      { baseUrl: settings.baseUrl!, keys: settings.keys!, customerIds: settings.customerIds, otherOrgCustomerId: settings.otherOrgCustomerId },
      settings.requestTimeoutMs,
    );
    runState.preflightRequests = 1;
    writeSession(created);
  } catch (error) {
    await sandbox?.close();
    throw error;
  }

  return async () => {
    if (sandbox) {
      runState.sandboxReceived = sandbox.stats.received;
      await sandbox.close();
    }
  };
}
