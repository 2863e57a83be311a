import type { Exchange } from '../support/exchange';

/**
 * The run's first request (the preflight) is sent once, by the global setup in the runner process;
 * its recorded exchange — already stripped of keys — reaches the worker processes through this variable.
 */
export const kSessionVariable = 'DYSPACH_RUN_SESSION';

export function writeSession(ex: Exchange): void {
  process.env[kSessionVariable] = JSON.stringify(ex);
}

export function readSession(): Exchange | undefined {
  const raw = process.env[kSessionVariable];
  return raw ? (JSON.parse(raw) as Exchange) : undefined;
}
