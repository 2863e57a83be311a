import { expect, test } from '@playwright/test';

import type { CheckId, Violation } from '../../support/checks';
import type { Exchange } from '../../support/exchange';
import { findOperation, keyedOperations } from '../../support/openapi';
import { pacer, RunMemory, ScenarioContext, type Host } from '../../support/suite';
import { sendJson, startStub, type Stub } from './stub-server';
import { kSeeded } from './suite-process';

/**
 * The suite is gentle with the target: it paces itself by RateLimit-Remaining and -Reset, and an
 * unrequested 429 is waited out (Retry-After) and retried once, as a warning and not as a contract
 * failure. Each case runs against a stub on 127.0.0.1 that the test starts.
 */

const kNotFound = { statusCode: 404, message: 'Quote not found', error: 'Not Found' };
const kThrottled = { message: 'Rate limit exceeded', limit: 60, retryAfterSeconds: 1 };

class RecordingHost implements Host {
  readonly warnings: string[] = [];
  readonly verdicts = new Map<CheckId, Violation[]>();

  step<T>(_title: string, body: () => Promise<T>): Promise<T> {
    return body();
  }

  async recordExchange(_ex: Exchange): Promise<void> {}

  async report(check: CheckId, violations: Violation[]): Promise<void> {
    this.verdicts.set(check, [...(this.verdicts.get(check) ?? []), ...violations]);
  }

  annotate(type: string, description: string): void {
    if (type === 'warning') this.warnings.push(description);
  }

  skip(reason: string): never {
    throw new Error(reason);
  }

  violations(): Violation[] {
    return [...this.verdicts.values()].flat();
  }
}

function contextFor(stub: Stub, host: Host): ScenarioContext {
  return new ScenarioContext({
    target: { baseUrl: stub.url, ...kSeeded },
    memory: new RunMemory(),
    operations: keyedOperations(),
    timeoutMs: 3000,
    host,
  });
}

/** The fetch of a never-issued quote with the active key: its documented answer is a 404. */
function fetchWith(ctx: ScenarioContext, role: string, value: string, extra = {}) {
  return ctx.probe(findOperation('fetchQuote'), role, { role, value }, { transport: 'raw', ...extra });
}

function fetchWithActiveKey(ctx: ScenarioContext, extra = {}) {
  return fetchWith(ctx, 'active key', kSeeded.keys.active, extra);
}

/** A stub whose every answer is the documented 404, with these RateLimit headers. */
function notFoundWith(remaining: number, reset: number): Promise<Stub> {
  return startStub((_req, res) => sendJson(res, 404, kNotFound, { 'ratelimit-remaining': String(remaining), 'ratelimit-reset': String(reset) }));
}

test.beforeEach(() => pacer.reset());
test.afterEach(() => pacer.reset());

test.describe('an unrequested 429', () => {
  test('is waited out for Retry-After, retried once, and reported as a warning, not a contract failure', async () => {
    const throttled = { 'retry-after': '1', 'ratelimit-remaining': '0', 'ratelimit-reset': '1' };
    const stub = await startStub((_req, res, index) => (index === 0 ? sendJson(res, 429, kThrottled, throttled) : sendJson(res, 404, kNotFound)));
    const host = new RecordingHost();
    const ctx = contextFor(stub, host);

    const ex = await ctx.send(fetchWithActiveKey(ctx));
    await ctx.finish();
    await stub.close();

    expect(ex.status).toBe(404);
    expect(ex.retriedAfter429).toBe(1);
    expect(stub.requests).toHaveLength(2);
    expect(stub.requests[1].at - stub.requests[0].at).toBeGreaterThanOrEqual(1000);
    expect(host.warnings).toEqual([
      `unrequested 429 on GET ${ex.request.path} (active key); retried once after 1 s. Other traffic may share the organisation's window.`,
    ]);
    expect([...host.verdicts.keys()], 'the retried answer was checked').toContain('bodyMatchesSchema');
    expect(host.violations()).toEqual([]);
  });

  test('is retried only once: a second 429 is the answer', async () => {
    const stub = await startStub((_req, res) => sendJson(res, 429, kThrottled, { 'retry-after': '1' }));
    const host = new RecordingHost();
    const ctx = contextFor(stub, host);

    const ex = await ctx.send(fetchWithActiveKey(ctx));
    await stub.close();

    expect(ex.status).toBe(429);
    expect(stub.requests).toHaveLength(2);
    expect(host.warnings).toHaveLength(1);
  });

  test('is not retried when the probe asked to be throttled', async () => {
    const stub = await startStub((_req, res) => sendJson(res, 429, kThrottled, { 'retry-after': '1' }));
    const host = new RecordingHost();
    const ctx = contextFor(stub, host);

    const ex = await ctx.send(fetchWithActiveKey(ctx, { expectThrottle: true }));
    await stub.close();

    expect(ex.status).toBe(429);
    expect(stub.requests).toHaveLength(1);
    expect(host.warnings).toEqual([]);
  });
});

/** Two fetches of the active key, one after the other, against a stub announcing `remaining` and `reset`. */
async function twoFetches(remaining: number, reset: number) {
  const stub = await notFoundWith(remaining, reset);
  const host = new RecordingHost();
  const ctx = contextFor(stub, host);

  await ctx.send(fetchWithActiveKey(ctx));
  await ctx.send(fetchWithActiveKey(ctx));
  await stub.close();
  return { stub, host };
}

test.describe('pacing by the RateLimit headers', () => {
  test('when RateLimit-Remaining reaches 1, the next request waits for RateLimit-Reset', async () => {
    const { stub, host } = await twoFetches(1, 1);

    expect(stub.requests).toHaveLength(2);
    expect(stub.requests[1].at - stub.requests[0].at).toBeGreaterThanOrEqual(1000);
    expect(host.warnings).toEqual([`waited 1 s for the rate-limit window to reset before GET ${stub.requests[1].path}`]);
  });

  test('with requests to spare, nothing waits', async () => {
    const { stub, host } = await twoFetches(2, 30);

    expect(stub.requests[1].at - stub.requests[0].at).toBeLessThan(500);
    expect(host.warnings).toEqual([]);
  });

  test('another organisation\'s window does not pace this one', async () => {
    const stub = await notFoundWith(0, 30);
    const host = new RecordingHost();
    const ctx = contextFor(stub, host);

    await ctx.send(fetchWith(ctx, 'other organisation\'s key', kSeeded.keys.otherOrg));
    await ctx.send(fetchWithActiveKey(ctx));
    await stub.close();

    expect(stub.requests[1].at - stub.requests[0].at).toBeLessThan(500);
    expect(host.warnings).toEqual([]);
  });
});
