import crypto from 'node:crypto';

import { received, type CheckId, type Violation } from '../checks';
import type { Exchange } from '../exchange';
import { linkedParameters, type Operation } from '../openapi';
import { creatingOperation, pathFor } from '../requests';
import { registerSecret } from '../redact';
import type { Scenario, ScenarioContext } from '../suite';

export const kDocumented401 = '401 {"message": "Invalid API key"}';

export const kActive = 'active key';

/** `createQuote (POST /v1/org/quote/getQuote)`: how titles name an operation. */
export function opName(op: Operation): string {
  return `${op.operationId} (${op.method.toUpperCase()} ${op.pathTemplate})`;
}

/** The probe was rejected with 401 (and, where HTTP allows it, one of `alsoLegal`). */
export function expectRejected(ex: Exchange, alsoLegal: number[] = [], hint?: string): Violation[] {
  if (ex.status === 401 || alsoLegal.includes(ex.status)) return [];
  const accepted = ex.status >= 200 && ex.status < 300;
  return [
    {
      summary: accepted ? `${ex.label}: accepted (${ex.status})` : `${ex.label}: answered ${ex.status}, not 401`,
      expected: alsoLegal.length ? `${kDocumented401} (or ${alsoLegal.join(', ')})` : kDocumented401,
      received: received(ex),
      exchange: ex,
      hint,
    },
  ];
}

export function expectServed(ex: Exchange, hint?: string): Violation[] {
  if (ex.status >= 200 && ex.status < 300) return [];
  return [{ summary: `${ex.label}: answered ${ex.status}, expected 2xx`, expected: '2xx with the documented body', received: received(ex), exchange: ex, hint }];
}

/** Operations for variants sent once each: spread round-robin over the keyed operations. */
export function rotate<T>(items: T[], ops: Operation[]): [T, Operation][] {
  return items.map((item, index) => [item, ops[index % ops.length]]);
}

/** Registers a key-derived value so that no report shows it, and returns it. */
export function derived(value: string, label: string): string {
  registerSecret(value, label);
  return value;
}

/** A key in the documented shape that no server issued. */
export function neverIssuedKey(): string {
  return derived(`dzk_live_${crypto.randomBytes(48).toString('base64url')}`, 'never-issued key');
}

export interface RejectionScenarioSpec {
  id: string;
  section: string;
  title: string;
  tags: string[];
  check: CheckId;
  needs?: Scenario['needs'];
  optIn?: Scenario['optIn'];
  send(ctx: ScenarioContext): Promise<Exchange[]>;
  alsoLegal?: number[];
  hint?: string;
}

/** A scenario that sends one or more probes and expects each to be rejected with 401. */
export function rejectionScenario(spec: RejectionScenarioSpec): Scenario {
  return {
    id: spec.id,
    section: spec.section,
    title: spec.title,
    tags: spec.tags,
    checks: [spec.check],
    needs: spec.needs,
    optIn: spec.optIn,
    async run(ctx) {
      const exchanges = await spec.send(ctx);
      await ctx.verify(spec.check, exchanges.flatMap(ex => expectRejected(ex, spec.alsoLegal, spec.hint)));
    },
  };
}

/** The operation that fetches what the creating operation made (linked by the document). */
export function fetchingOperation(ops: Operation[]): Operation | undefined {
  const from = creatingOperation().operationId;
  return ops.find(op => linkedParameters().get(op.operationId)?.from === from);
}

/** The path of `op` with every path parameter set to `value`. */
export function pathWith(op: Operation, value: string): string {
  return pathFor(op, undefined, Object.fromEntries(op.pathParameters.map(param => [param.name, value])));
}

export function activeKey(ctx: ScenarioContext) {
  return { role: kActive, value: ctx.target.keys.active };
}

/** A plain request of the active key (no other header, no variant) from an earlier test, if one matches. */
export function reusable(ctx: ScenarioContext, match: (ex: Exchange) => boolean): Exchange | undefined {
  const plain = (ex: Exchange) =>
    ex.keyRole === kActive && ex.request.transport === 'playwright' && ex.request.headers.every(([name]) => ['x-api-key', 'content-type'].includes(name));
  return ctx.memory.find(ex => plain(ex) && match(ex)).at(-1);
}

/** Shows an exchange sent earlier as evidence in this test, without counting or checking it again. */
export async function cite(ctx: ScenarioContext, ex: Exchange, when = 'sent by an earlier test'): Promise<void> {
  await ctx.host.step(`${ex.request.method} ${ex.request.path} — ${ex.label} (${when})`, () => ctx.host.recordExchange(ex, true));
}

/**
 * The keyed operations with the ones that take no request body first: variants sent to a single
 * operation go to the cheapest one.
 */
export function bodilessFirst(ops: Operation[]): Operation[] {
  return [...ops.filter(op => op.exampleBody === undefined), ...ops.filter(op => op.exampleBody !== undefined)];
}
