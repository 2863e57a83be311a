import { intHeader, received, type Violation } from '../checks';
import type { Exchange } from '../exchange';
import type { Operation } from '../openapi';
import type { Scenario, ScenarioContext } from '../suite';
import { activeKey, expectServed, fetchingOperation, opName } from './helpers';

const kSection = 'Rate limits';

/** The documented default, used to bound the throttling loop until the target states its own limit. */
const kDefaultLimit = 60;
const kMaxWaitMs = 65_000;

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** The window state one response reported. */
interface Reading {
  ex: Exchange;
  remaining: number;
  reset: number;
}

const isActive = (ex: Exchange) => ex.authenticated && /^active key/.test(ex.keyRole);
const isSecond = (ex: Exchange) => ex.authenticated && /^second active key/.test(ex.keyRole);
const byTime = (a: Exchange, b: Exchange) => a.startedAt - b.startedAt || a.seq - b.seq;

/** The window state of a request the organisation's key got through with; 401 and 429 say nothing of counting. */
function readWindow(ex: Exchange): Reading | undefined {
  if (!ex.authenticated || ex.status === 401 || ex.status === 429) return undefined;
  const remaining = intHeader(ex, 'RateLimit-Remaining');
  const reset = intHeader(ex, 'RateLimit-Reset');
  return remaining === undefined || reset === undefined ? undefined : { ex, remaining, reset };
}

/**
 * True when `later` was certainly answered inside the window `earlier` reported. RateLimit-Reset
 * may be rounded either way, so that window lasts at least (reset − 1) s after `earlier` was sent.
 */
function sameWindow(earlier: Reading, later: Exchange): boolean {
  return later.startedAt + later.durationMs < earlier.ex.startedAt + (earlier.reset - 1) * 1000;
}

/** Everything this run sent, the run's first request included, in the order it was sent. */
function history(ctx: ScenarioContext): Exchange[] {
  return [...(ctx.created ? [ctx.created] : []), ...ctx.memory.exchanges].sort(byTime);
}

function readings(list: Exchange[]): Reading[] {
  return list.flatMap(ex => readWindow(ex) ?? []);
}

const describe = (reading: Reading) => `RateLimit-Remaining ${reading.remaining} after ${reading.ex.request.method} ${reading.ex.request.path} (${reading.ex.label})`;

/** A violation when `after` did not lower the window `before` reported; nothing to judge when `before` had none left. */
function judgeFall(before: Reading, after: Reading, hint?: string): Violation[] {
  if (before.remaining === 0 || after.remaining < before.remaining) return [];
  return [
    {
      summary: `RateLimit-Remaining went from ${before.remaining} to ${after.remaining} in one window`,
      expected: `below ${before.remaining}: the later request counts too`,
      received: `${describe(before)}, then ${describe(after)}`,
      exchange: after.ex,
      hint,
    },
  ];
}

/**
 * A violation when RateLimit-Reset grew between two answers of one window. It counts the seconds
 * until a fixed end, so it can only stay (rounding) or fall; a renewed window is not "one window".
 */
function judgeCountdown(before: Reading, after: Reading): Violation[] {
  // One second of slack: servers round the seconds left, and replicas' clocks differ a little.
  if (after.reset <= before.reset + 1) return [];
  return [
    {
      summary: `RateLimit-Reset went from ${before.reset} to ${after.reset} in one window`,
      expected: `at most ${before.reset}: the seconds until the window resets count down`,
      received: `RateLimit-Reset ${before.reset} after ${before.ex.request.method} ${before.ex.request.path} (${before.ex.label}), then ${after.reset} after ${after.ex.request.method} ${after.ex.request.path} (${after.ex.label})`,
      exchange: after.ex,
      hint: 'A fixed window ends at a fixed time. A Reset that grows with each request looks like a token bucket\'s time to refill, or the seconds since the window opened.',
    },
  ];
}

function unreadable(ex: Exchange, what: string): Violation {
  return {
    summary: `${what}: answered ${ex.status} without integer RateLimit-Remaining and RateLimit-Reset headers, so the window cannot be followed`,
    expected: '2xx with RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset',
    received: received(ex),
    exchange: ex,
  };
}

/** Notes what 401 answers showed about the window; the contract says nothing of it. */
function observeUnauthenticated(ctx: ScenarioContext, list: Exchange[]): void {
  const rejected = list.filter(ex => ex.status === 401);
  if (rejected.length === 0) return;
  const withHeaders = rejected.filter(ex => ex.headers['ratelimit-remaining'] !== undefined).length;
  ctx.observe(`${withHeaders} of ${rejected.length} 401 answers carried RateLimit-* headers (not stated)`);

  const active = readings(list.filter(isActive));
  let counted = 0;
  let notCounted = 0;
  for (let i = 1; i < active.length; i++) {
    const [before, after] = [active[i - 1], active[i]];
    const between = list.filter(ex => byTime(before.ex, ex) < 0 && byTime(ex, after.ex) < 0);
    if (between.length === 0 || !between.every(ex => ex.status === 401 && !ex.authenticated) || !sameWindow(before, after.ex)) continue;
    const drop = before.remaining - after.remaining;
    if (drop === 1) notCounted++;
    else if (drop === 1 + between.length) counted++;
  }
  if (counted + notCounted > 0)
    ctx.observe(`401s between two of the active key's requests seemed ${counted > notCounted ? '' : 'not '}to count against the window (counted in ${counted}, not in ${notCounted} stretches; not stated)`);
}

function remainingFallsScenario(ops: Operation[]): Scenario {
  return {
    id: 'rate-limits.remaining-falls',
    section: kSection,
    title: 'every operation: a request of the active key lowers RateLimit-Remaining within the window, and RateLimit-Reset never counts up in it',
    tags: ['@rate-limit'],
    checks: ['rateLimitRemainingFalls'],
    async run(ctx) {
      const problems: Violation[] = [];
      const covered = new Set<string>();
      const active = readings(history(ctx).filter(isActive));
      // Reset is judged against the first answer of each window, so a slow climb (one second per request)
      // shows too. A window is followed by its Remaining: it only goes back up when a new window opens.
      let anchor = active[0];
      let countdownReported = false;
      for (let i = 1; i < active.length; i++) {
        if (active[i].remaining > active[i - 1].remaining) {
          anchor = active[i];
          countdownReported = false;
        } else if (!countdownReported) {
          const climb = judgeCountdown(anchor, active[i]);
          problems.push(...climb);
          countdownReported = climb.length > 0;
        }
        if (!sameWindow(active[i - 1], active[i].ex)) continue;
        problems.push(...judgeFall(active[i - 1], active[i]));
        covered.add(active[i].ex.operation ?? '');
      }

      // An operation no earlier request showed: one request of its own, or two when the window may have renewed.
      for (const op of ops.filter(candidate => !covered.has(candidate.operationId))) {
        const before = readings(history(ctx).filter(isActive)).at(-1);
        const first = await ctx.send(ctx.probe(op, 'active key, following the window', activeKey(ctx)));
        const after = readWindow(first);
        if (!after) {
          problems.push(unreadable(first, `${opName(op)} with the active key`));
          continue;
        }
        if (before && sameWindow(before, first)) {
          problems.push(...judgeFall(before, after), ...judgeCountdown(before, after));
          continue;
        }
        const second = await ctx.send(ctx.probe(op, 'active key, following the window again', activeKey(ctx)));
        const again = readWindow(second);
        if (!again) problems.push(unreadable(second, `${opName(op)} with the active key`));
        else if (sameWindow(after, second)) problems.push(...judgeFall(after, again), ...judgeCountdown(after, again));
        else ctx.observe(`${opName(op)}: the window renewed between two requests a moment apart (RateLimit-Reset ${after.reset}); not judged`);
      }

      observeUnauthenticated(ctx, history(ctx));
      await ctx.verify('rateLimitRemainingFalls', problems);
    },
  };
}

function sharedAcrossKeysScenario(ops: Operation[]): Scenario {
  const op = fetchingOperation(ops) ?? ops[0];
  const hint = 'The limit is per organisation, across all of its keys: a second key must not start a window of its own.';
  return {
    id: 'rate-limits.shared-across-keys',
    section: kSection,
    title: 'a request with the second active key lowers the RateLimit-Remaining that the active key\'s requests saw: one window per organisation, across its keys',
    tags: ['@rate-limit'],
    checks: ['rateLimitSharedAcrossKeys'],
    needs: ['second'],
    async run(ctx) {
      const secondKey = { role: 'second active key', value: ctx.target.keys.second };
      const problems: Violation[] = [];
      let judged = 0;
      const judge = (before: Reading, after: Reading) => {
        judged++;
        problems.push(...judgeFall(before, after, hint));
      };

      // Pairs from earlier tests: the active key's last request before each of the second key's.
      const list = history(ctx);
      for (const after of readings(list.filter(isSecond))) {
        const before = readings(list.filter(ex => isActive(ex) && byTime(ex, after.ex) < 0)).at(-1);
        if (before && sameWindow(before, after.ex)) judge(before, after);
      }

      // None: the second key's request right after the active key's last one, or a fresh pair when the window may have renewed.
      if (judged === 0) {
        const before = readings(history(ctx).filter(isActive)).at(-1);
        const ex = await ctx.send(ctx.probe(op, 'second active key, following the window', secondKey));
        const after = readWindow(ex);
        if (ex.status === 401) ctx.observe('the second active key was answered 401, so it showed nothing of the window (everyActiveKeyAccepted covers the 401)');
        else if (!after) problems.push(unreadable(ex, `${opName(op)} with the second active key`));
        else if (before && sameWindow(before, ex)) judge(before, after);
        else {
          const activeEx = await ctx.send(ctx.probe(op, 'active key, following the window', activeKey(ctx)));
          const secondEx = await ctx.send(ctx.probe(op, 'second active key, following the window again', secondKey));
          const [fresh, again] = [readWindow(activeEx), readWindow(secondEx)];
          if (!fresh) problems.push(unreadable(activeEx, `${opName(op)} with the active key`));
          else if (!again) problems.push(unreadable(secondEx, `${opName(op)} with the second active key`));
          else if (sameWindow(fresh, secondEx)) judge(fresh, again);
        }
      }
      if (judged === 0 && problems.length === 0) return ctx.host.skip('no request of the second key could be compared with one of the active key in the same window');
      await ctx.verify('rateLimitSharedAcrossKeys', problems);
    },
  };
}

function throttlingScenario(ops: Operation[]): Scenario {
  const op = fetchingOperation(ops) ?? ops[0];
  return {
    id: 'rate-limits.throttling',
    section: kSection,
    title: `${opName(op)}: once the window is spent, and not before, a request is answered 429 with Retry-After and the documented body, and served again Retry-After seconds later`,
    tags: ['@rate-limit', '@throttling'],
    checks: ['throttledResponseDocumented', 'throttleLiftsAfterRetryAfter'],
    optIn: 'DYSPACH_THROTTLING',
    async run(ctx) {
      const probe = (label: string) => ctx.probe(op, label, activeKey(ctx), { expectThrottle: true });

      // Spend the window: at most RateLimit-Limit + 5 requests, stopping at the first 429.
      let bound: number | undefined;
      let limit: number | undefined;
      let previous: Reading | undefined;
      // The answer just before, in this loop: nothing else this run sent came between it and the next.
      let prior: Reading | undefined;
      let renewed = false;
      let throttled: Exchange | undefined;
      let last: Exchange | undefined;
      for (let sent = 0; sent < (bound ?? kDefaultLimit + 5); sent++) {
        last = await ctx.send(probe(`active key, spending the window (${sent + 1})`));
        if (last.status === 429) {
          throttled = last;
          break;
        }
        limit = intHeader(last, 'RateLimit-Limit') ?? limit;
        if (bound === undefined && limit !== undefined) bound = limit + 5;
        const reading = readWindow(last);
        if (previous && reading && reading.remaining > previous.remaining) renewed = true;
        previous = reading ?? previous;
        prior = reading;
      }

      if (!throttled) {
        if (renewed) return ctx.host.skip('the window renewed while it was being spent, before any 429; run again');
        await ctx.verify('throttledResponseDocumented', {
          summary: `no request was answered 429 within the window`,
          expected: `429 once RateLimit-Limit (${limit ?? 'not stated'}) requests were counted`,
          received: last ? received(last) : 'no request sent',
          exchange: last,
        });
        return;
      }

      const problems: Violation[] = [];
      // A renewed window only adds room, so a 429 right after "Remaining: 1 or more" is early in any window.
      if (prior && prior.remaining >= 1) {
        problems.push({
          summary: `429 right after an answer that left RateLimit-Remaining ${prior.remaining}`,
          expected: '429 only once RateLimit-Remaining has reached 0',
          received: `${describe(prior)}, then 429`,
          exchange: throttled,
          hint: 'Remaining must say what is left: the request after "Remaining: 1" is still served. Other traffic of the organisation at the same moment would also explain it.',
        });
      }
      const retryAfter = intHeader(throttled, 'Retry-After');
      if (retryAfter === undefined) {
        const raw = throttled.headers['retry-after'];
        problems.push({
          summary: raw === undefined ? '429 without a Retry-After header' : `Retry-After ${JSON.stringify(raw.slice(0, 40))} is not a whole number of seconds`,
          expected: 'Retry-After: <seconds>',
          exchange: throttled,
        });
      }
      const stated = intHeader(throttled, 'RateLimit-Limit') ?? limit;
      const body = throttled.json as { limit?: unknown } | undefined;
      if (typeof body?.limit !== 'number') {
        problems.push({
          summary: '429 body has no numeric limit',
          expected: '{"message": "Rate limit exceeded", "limit": <RateLimit-Limit>, "retryAfterSeconds": <seconds>}',
          received: received(throttled),
          exchange: throttled,
        });
      } else if (stated !== undefined && body.limit !== stated) {
        problems.push({
          summary: `429 body states limit ${body.limit}, RateLimit-Limit says ${stated}`,
          expected: `limit ${stated}`,
          received: received(throttled),
          exchange: throttled,
        });
      }
      await ctx.verify('throttledResponseDocumented', problems);

      // Contract, Rate limits: a fixed 60-second window, so Retry-After is at most a minute away.
      const waitSeconds = retryAfter ?? intHeader(throttled, 'RateLimit-Reset') ?? kDefaultLimit;
      const waitMs = waitSeconds * 1000 + 250;
      if (waitMs > kMaxWaitMs) {
        ctx.observe(`the 429 asked for ${waitSeconds} s, more than the 60-second window; whether it lifts was not checked`);
        return;
      }
      await ctx.host.step(`wait ${waitSeconds} s (${retryAfter === undefined ? 'RateLimit-Reset, as Retry-After is missing' : 'Retry-After'})`, () => sleep(waitMs));
      const after = await ctx.send(probe('active key, after Retry-After'));
      await ctx.verify('throttleLiftsAfterRetryAfter', expectServed(after, `The 429 said to retry after ${waitSeconds} s; a request sent then must be served.`));
    },
  };
}

/** The rate-limit clauses: the window falls with each request, is shared by the organisation's keys, and throttles (opt-in). */
export function rateLimitScenarios(ops: Operation[]): Scenario[] {
  return [remainingFallsScenario(ops), sharedAcrossKeysScenario(ops), throttlingScenario(ops)];
}
