import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Exchange } from '../support/exchange';

/**
 * What the worker processes share for one run. The run's first request (the preflight) is sent
 * once, by the global setup in the runner process; its recorded exchange — already stripped of
 * keys — and a folder for state that must outlive a worker (Playwright starts a new worker after a
 * failed test) reach the workers through this variable.
 */
export const kSessionVariable = 'DYSPACH_RUN_SESSION';

export interface Session {
  created: Exchange;
  /** Holds `memory.jsonl` (the run's exchanges, keys already replaced by roles) and `lost` (why the target is gone). */
  stateDir: string;
}

export function writeSession(created: Exchange): Session {
  const session = { created, stateDir: fs.mkdtempSync(path.join(os.tmpdir(), 'dyspach-run-')) };
  process.env[kSessionVariable] = JSON.stringify(session);
  return session;
}

export function readSession(): Session | undefined {
  const raw = process.env[kSessionVariable];
  return raw ? (JSON.parse(raw) as Session) : undefined;
}

export function removeSession(session: Session | undefined): void {
  if (session) fs.rmSync(session.stateDir, { recursive: true, force: true });
}

/** The reason the target stopped answering, once a worker has found it gone. */
export function targetLost(session: Session | undefined): string | undefined {
  if (!session) return undefined;
  try {
    return fs.readFileSync(path.join(session.stateDir, 'lost'), 'utf8');
  } catch {
    return undefined;
  }
}

export function markTargetLost(session: Session | undefined, reason: string): void {
  if (session) fs.writeFileSync(path.join(session.stateDir, 'lost'), reason);
}
