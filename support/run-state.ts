
/** What the global setup learned, for the reporters that run in the same (runner) process. */
export const runState: {
  /** Set as the global setup begins: a run that never got there (e.g. `--list`) has no verdict. */
  setupStarted?: boolean;
  target?: string;
  targetKind?: 'sandbox' | 'remote';
  /** The embedded sandbox's request counter, while it runs. */
  sandboxStats?: { received: number };
  preflightRequests: number;
  sandboxReceived?: number;
  /** Set by the leak-check reporter: how many places in the run's reports hold a key. */
  leakFindings?: number;
} = ((globalThis as Record<string, unknown>).__dyspachRunState ??= { preflightRequests: 0 }) as never;
