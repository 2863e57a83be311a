import fs from 'node:fs';

import type { APIRequestContext } from '@playwright/test';
import createDebug from 'debug';

import { checkBodySchema, checkJsonContentType, checkRateLimitHeaders, intHeader, kChecks, type CheckId, type Violation } from './checks';
import { exchange, TransportError, type Exchange, type Probe } from './exchange';
import type { Operation } from './openapi';
import { redact, redactDeep } from './redact';
import { bodyFor, creatingOperation, pathFor, type RunTarget } from './requests';

const log = createDebug('dyspach:http');

/** How a scenario's results reach the world: Playwright steps and soft assertions, or the self-test's tally. */
export interface Host {
  step<T>(title: string, body: () => Promise<T>): Promise<T>;
  recordExchange(ex: Exchange, sentEarlier?: boolean): Promise<void>;
  report(check: CheckId, violations: Violation[]): Promise<void>;
  annotate(type: 'observed' | 'warning' | 'skipped', description: string): void;
  /** Ends the scenario without a verdict; `reason` names what is missing. */
  skip(reason: string): never;
}

export type OptionalNeed = 'second' | 'otherOrg';

export const kNeedVariables: Record<OptionalNeed, string> = {
  second: 'DYSPACH_SECOND_API_KEY',
  otherOrg: 'DYSPACH_OTHER_ORG_API_KEY and DYSPACH_OTHER_ORG_CUSTOMER_ID',
};

export interface Scenario {
  /** Stable id, unique across the suite, e.g. `auth.missing-key.createQuote`. */
  id: string;
  /** Contract section, used as the describe block and the report's feature. */
  section: string;
  /** The test title: the operation and the clause, readable as a sentence. */
  title: string;
  tags: string[];
  /** The checks this scenario reports on (besides the response checks every exchange gets). */
  checks: CheckId[];
  needs?: OptionalNeed[];
  /** Opt-in scenarios do not run by default; the value names the variable that enables them. */
  optIn?: 'DYSPACH_THROTTLING' | 'DYSPACH_THOROUGH';
  run(ctx: ScenarioContext): Promise<void>;
}

/** Rate-limit state seen on the last responses, shared by everything one process sends. */
class Pacer {
  private remaining?: number;
  private resetAt = 0;

  observe(ex: Exchange): void {
    if (!ex.authenticated || ex.keyRole.startsWith('other organisation')) return;
    const remaining = intHeader(ex, 'RateLimit-Remaining');
    const reset = intHeader(ex, 'RateLimit-Reset');
    if (remaining === undefined || reset === undefined) return;
    this.remaining = remaining;
    this.resetAt = ex.startedAt + ex.durationMs + reset * 1000;
  }

  /** How long to wait before the next request so that it does not trip the limit. */
  delayMs(now = Date.now()): number {
    if (this.remaining === undefined || this.remaining > 1 || now >= this.resetAt) return 0;
    return this.resetAt - now + 250;
  }

  reset(): void {
    this.remaining = undefined;
    this.resetAt = 0;
  }
}

export const pacer = new Pacer();

const kMaxWaitMs = 65_000;
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** Every exchange of the run so far in this process, so that scenarios can reuse what others sent. */
export class RunMemory {
  readonly exchanges: Exchange[] = [];

  /**
   * With a file, the memory survives the worker process: Playwright replaces a worker after a failed
   * test, and the next one reads what the run sent so far instead of sending it again.
   */
  constructor(private readonly file?: string) {
    if (file && fs.existsSync(file))
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) if (line) this.exchanges.push(JSON.parse(line) as Exchange);
  }

  record(ex: Exchange): void {
    this.exchanges.push(ex);
    if (this.file) fs.appendFileSync(this.file, `${JSON.stringify(redactDeep(ex))}\n`);
  }

  find(predicate: (ex: Exchange) => boolean): Exchange[] {
    return this.exchanges.filter(predicate);
  }
}

export interface ContextOptions {
  target: RunTarget;
  memory: RunMemory;
  operations: Operation[];
  /** The creation request sent before the scenarios (preflight); the fetch operation reads its quote id. */
  created?: Exchange;
  timeoutMs: number;
  playwright?: APIRequestContext;
  host: Host;
}

/** What a scenario works with. Every request goes through `send`, every verdict through `verify`. */
export class ScenarioContext {
  readonly target: RunTarget;
  readonly operations: Operation[];
  readonly created?: Exchange;
  readonly memory: RunMemory;
  readonly exchanges: Exchange[] = [];
  private readonly responseViolations = new Map<CheckId, Violation[]>();

  constructor(private readonly options: ContextOptions) {
    this.target = options.target;
    this.operations = options.operations;
    this.created = options.created;
    this.memory = options.memory;
  }

  get host(): Host {
    return this.options.host;
  }

  /** The operation's documented example request, with `key` sent as `x-api-key` (or no key when undefined). */
  probe(op: Operation, label: string, key: NonNullable<Probe['key']>, extra: Partial<Probe> = {}): Probe {
    const body = bodyFor(op, this.target);
    return {
      operation: op.operationId,
      method: op.method.toUpperCase(),
      path: pathFor(op, this.created),
      body: body === undefined ? undefined : { json: body },
      key,
      label,
      ...extra,
    };
  }

  async send(probe: Probe): Promise<Exchange> {
    const title = `${probe.method} ${probe.path} — ${probe.label}`;
    return this.options.host.step(title, async () => {
      if (!probe.expectThrottle) {
        const wait = pacer.delayMs();
        if (wait > 0) {
          this.options.host.annotate('warning', `waited ${Math.round(wait / 1000)} s for the rate-limit window to reset before ${probe.method} ${probe.path}`);
          await sleep(Math.min(wait, kMaxWaitMs));
        }
      }
      let ex = await exchange(probe, { baseUrl: this.target.baseUrl, timeoutMs: this.options.timeoutMs, playwright: this.options.playwright });
      this.account(ex);

      if (ex.status === 429 && !probe.expectThrottle) {
        const retryAfter = intHeader(ex, 'Retry-After') ?? 60;
        this.options.host.annotate(
          'warning',
          `unrequested 429 on ${probe.method} ${probe.path} (${probe.label}); retried once after ${retryAfter} s. Other traffic may share the organisation's window.`,
        );
        await sleep(Math.min(retryAfter * 1000 + 250, kMaxWaitMs));
        const retried = await exchange(probe, { baseUrl: this.target.baseUrl, timeoutMs: this.options.timeoutMs, playwright: this.options.playwright });
        retried.retriedAfter429 = retryAfter;
        this.account(retried);
        ex = retried;
      }
      this.collectResponseChecks(ex);
      return ex;
    });
  }

  /** Takes an exchange sent outside this scenario (the run's first request) into its record and checks. */
  async adopt(ex: Exchange): Promise<void> {
    await this.options.host.step(`${ex.request.method} ${ex.request.path} — ${ex.label} (sent before the tests)`, async () => {
      await this.options.host.recordExchange(ex, true);
      this.collectResponseChecks(ex);
    });
  }

  private account(ex: Exchange): void {
    this.exchanges.push(ex);
    this.options.memory.record(ex);
    pacer.observe(ex);
    log(redact(`--> ${ex.request.method} ${ex.request.path} (${ex.label}) ${ex.status} ${Math.round(ex.durationMs)}ms`));
    void this.options.host.recordExchange(ex);
  }

  /** The checks every response gets: documented responses are JSON, match their schema and carry their headers. */
  private collectResponseChecks(ex: Exchange): void {
    const add = (check: CheckId, violations: Violation[]) => {
      const list = this.responseViolations.get(check) ?? [];
      list.push(...violations);
      this.responseViolations.set(check, list);
    };
    add('jsonContentType', checkJsonContentType(ex));
    add('bodyMatchesSchema', checkBodySchema(ex));
    add('rateLimitHeadersPresent', checkRateLimitHeaders(ex));
  }

  /** Reports one check's verdict; an empty list means the check holds. */
  async verify(check: CheckId, violations: Violation[] | Violation | undefined): Promise<void> {
    const list = violations === undefined ? [] : Array.isArray(violations) ? violations : [violations];
    await this.options.host.step(`${list.length ? '✗' : '✓'} ${check}: ${kChecks[check].clause}`, () => this.options.host.report(check, list));
  }

  observe(description: string): void {
    this.options.host.annotate('observed', redact(description));
  }

  /** Called by the runner after the scenario: reports the response checks that saw at least one exchange. */
  async finish(): Promise<void> {
    for (const [check, violations] of this.responseViolations) await this.verify(check, violations);
  }
}

/** Why the run's first request showed that the run cannot go ahead; its message is the whole story for the user. */
export class PreflightError extends Error {
  constructor(lines: string[]) {
    super(lines.join('\n'));
    this.name = 'PreflightError';
    this.stack = this.message;
  }
}

/** The first request of a run: creates the quote the fetch checks use, and finds configuration problems early. */
export async function preflight(target: RunTarget, timeoutMs: number, playwright?: APIRequestContext): Promise<Exchange> {
  const op = creatingOperation();
  const body = bodyFor(op, target);
  const probe: Probe = {
    operation: op.operationId,
    method: op.method.toUpperCase(),
    path: pathFor(op),
    body: body === undefined ? undefined : { json: body },
    key: { role: 'active key', value: target.keys.active },
    label: 'active key, first request of the run',
  };
  const where = `${probe.method} ${target.baseUrl}${probe.path}`;
  let ex: Exchange;
  try {
    ex = await exchange(probe, { baseUrl: target.baseUrl, timeoutMs, playwright });
    if (ex.status === 429) {
      const retryAfter = intHeader(ex, 'Retry-After') ?? 60;
      await sleep(Math.min(retryAfter * 1000 + 250, kMaxWaitMs));
      ex = await exchange(probe, { baseUrl: target.baseUrl, timeoutMs, playwright });
    }
  } catch (error) {
    if (error instanceof TransportError) throw new PreflightError([`Cannot run the suite: ${error.message}`, 'No contract check was run.']);
    throw error;
  }
  pacer.observe(ex);
  const type = ex.headers['content-type'] ?? '(none)';
  const html = /text\/html/i.test(type) || /^\s*<(!doctype|html)/i.test(ex.text);
  // The page's title says whose page it is (a login page, nginx's 502); control characters are not printed.
  const rawTitle = html ? /<title[^>]*>([^<]{0,80})<\/title>/i.exec(ex.text)?.[1] : undefined;
  const title = rawTitle?.replace(/[^\x20-\x7e\u00a0-\uffff]/g, ' ').trim();
  const page = html ? `an HTML page${title ? ` ("${title}")` : ''}` : `content type ${type}`;
  if ([502, 503, 504].includes(ex.status)) {
    throw new PreflightError([
      `Cannot run the suite: ${where} answered ${ex.status} ${ex.statusText}${html ? `, ${page}` : ` (${page})`}.`,
      'A gateway in front of the API could not reach it. Check that the deployment is up, then run again.',
    ]);
  }
  if (html) {
    throw new PreflightError([
      `Cannot run the suite: ${where} answered ${ex.status} with ${page}, not JSON.`,
      'A proxy, gateway or login page is probably in the way. Check that DYSPACH_BASE_URL is the API\'s base URL (not the portal\'s).',
    ]);
  }
  if (ex.status === 404 || ex.status === 405) {
    throw new PreflightError([
      `Cannot run the suite: ${where} answered ${ex.status}${ex.statusText ? ` ${ex.statusText}` : ''}: the API is not at this path.`,
      'Check DYSPACH_BASE_URL: it must include any path prefix the deployment is served under (e.g. https://host/partner) and stop before /v1.',
    ]);
  }
  if (ex.status === 401) {
    throw new PreflightError([
      `Cannot run the suite: the active key (DYSPACH_API_KEY) was rejected with 401 by ${where}.`,
      'Check that it is the full key (not the 16-character prefix shown in the portal), that it is not revoked, and that it',
      'belongs to this deployment. If the key is right, the deployment rejects valid keys: that alone means "don\'t ship".',
    ]);
  }
  if (ex.status === 403) {
    throw new PreflightError([
      `Cannot run the suite: ${where} answered 403 for DYSPACH_CUSTOMER_ID with the active key.`,
      'Check that DYSPACH_CUSTOMER_ID lists customers of the organisation that owns DYSPACH_API_KEY.',
    ]);
  }
  return ex;
}
