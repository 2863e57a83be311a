import crypto from 'node:crypto';

import { documentedSchema, received, type Violation } from '../checks';
import type { Exchange, Probe } from '../exchange';
import { writePointer, type Operation } from '../openapi';
import { bodyFor, createdQuoteId, creatingOperation, kNeverIssuedQuoteId, pathFor } from '../requests';
import type { Scenario, ScenarioContext } from '../suite';
import { activeKey, cite, fetchingOperation, opName, pathWith, reusable } from './helpers';
import { documentedPart, firstDifference, resultsOf } from './quotes';

const kSection = 'Errors';

const kDocumented400 = '400 {"statusCode": 400, "message": [ …strings ], "error": "Bad Request"}';
const kDocumented403 = '403 {"statusCode": 403, "message": "One or more customers do not belong to this organisation", "error": "Forbidden"}';
const kDocumented404 = '404 {"statusCode": 404, "message": "Quote not found", "error": "Not Found"}';

/** A postcode no Australian place has (they run 0200–9999; 9999 itself is in use). */
const kUnresolvablePostcode = '0000';

/** The most customer ids the contract allows in one request. */
const kMaxCustomers = 50;

interface InvalidBody {
  slug: string;
  /** Completes "createQuote: … is answered 400". */
  what: string;
  label: string;
  body(valid: unknown, ctx: ScenarioContext): Probe['body'];
  /** `raw` where Playwright's client would rewrite the body (it quotes a non-JSON string sent as JSON). */
  transport?: Probe['transport'];
  /** Judges a 2xx answer where the contract leaves one legal; without it, only 400 is. */
  whenServed?(ex: Exchange, ctx: ScenarioContext): Violation[];
  /** Completes the title when `whenServed` allows a 2xx. */
  orElse?: string;
  optIn?: Scenario['optIn'];
}

/** The body without one of its top-level fields. */
const without = (valid: unknown, field: string) => Object.fromEntries(Object.entries(valid as Record<string, unknown>).filter(([name]) => name !== field));

/**
 * Contract, Generate quotes: 1 to 50 customer ids. Whether a repeated id counts twice is not
 * stated, so a server that merges duplicates and prices at most 50 customers is within it.
 */
function judgeTooManyServed(ex: Exchange, ctx: ScenarioContext): Violation[] {
  const requested = (ex.request.body as { general?: { customerIds?: unknown } } | undefined)?.general?.customerIds;
  const distinct = new Set(Array.isArray(requested) ? requested : []).size;
  const results = resultsOf(ex).length;
  if (distinct <= kMaxCustomers && results <= kMaxCustomers) {
    ctx.observe(
      `${kMaxCustomers + 1} customerIds (${distinct} distinct) were served ${ex.status} with ${results} results entr${results === 1 ? 'y' : 'ies'}: duplicates seem merged before counting (not stated)`,
    );
    return [];
  }
  return [{
    summary: `${ex.label}: served (${ex.status}) with ${results} results entries for ${distinct} distinct customers`,
    expected: `${kDocumented400}; or, if duplicates are merged, at most ${kMaxCustomers} results`,
    received: received(ex),
    exchange: ex,
    hint: `The contract allows 1 to ${kMaxCustomers} customer ids; pricing more than ${kMaxCustomers} customers in one request is outside it.`,
  }];
}

const kInvalidBodies: InvalidBody[] = [
  {
    slug: 'missing-customer-ids',
    what: 'a body without general.customerIds',
    label: 'general.customerIds left out',
    body: valid => ({ json: writePointer(valid, '/general', {}) }),
  },
  {
    slug: 'empty-customer-ids',
    what: 'an empty general.customerIds',
    label: 'general.customerIds = []',
    body: valid => ({ json: writePointer(valid, '/general/customerIds', []) }),
  },
  {
    slug: 'too-many-customer-ids',
    what: `a general.customerIds with ${kMaxCustomers + 1} entries (the organisation's own ids, repeated)`,
    label: `general.customerIds with ${kMaxCustomers + 1} entries`,
    // The organisation's own ids, repeated: only the count is wrong, so 403 is no answer.
    body: (valid, ctx) => {
      const own = ctx.target.customerIds;
      return { json: writePointer(valid, '/general/customerIds', Array.from({ length: kMaxCustomers + 1 }, (_, i) => own[i % own.length])) };
    },
    whenServed: judgeTooManyServed,
    orElse: `, or served with at most ${kMaxCustomers} results if duplicates are merged (not stated)`,
  },
  {
    slug: 'empty-items',
    what: 'an empty items list',
    label: 'items = []',
    body: valid => ({ json: writePointer(valid, '/items', []) }),
  },
  {
    slug: 'unresolvable-postcode',
    what: `a destination postcode that resolves to no place (${kUnresolvablePostcode})`,
    label: `destination.postalCode = "${kUnresolvablePostcode}"`,
    body: valid => ({ json: writePointer(valid, '/destination/postalCode', kUnresolvablePostcode) }),
  },
  {
    slug: 'unresolvable-origin-postcode',
    what: `an origin postcode that resolves to no place (${kUnresolvablePostcode})`,
    label: `origin.postalCode = "${kUnresolvablePostcode}"`,
    body: valid => ({ json: writePointer(valid, '/origin/postalCode', kUnresolvablePostcode) }),
    optIn: 'DYSPACH_THOROUGH',
  },
  {
    slug: 'missing-destination',
    what: 'a body without destination',
    label: 'destination left out',
    body: valid => ({ json: without(valid, 'destination') }),
    optIn: 'DYSPACH_THOROUGH',
  },
  {
    slug: 'not-json',
    what: 'a body that is not JSON (cut off mid-object)',
    label: 'body is not JSON',
    body: valid => ({ raw: JSON.stringify(valid).slice(0, 20), contentType: 'application/json' }),
    transport: 'raw',
  },
];

function expectStatus(ex: Exchange, status: number, documented: string, hint?: string): Violation[] {
  if (ex.status === status) return [];
  const served = ex.status >= 200 && ex.status < 300;
  return [{
    summary: `${ex.label}: ${served ? `served (${ex.status})` : `answered ${ex.status}`}, expected ${status}`,
    expected: documented,
    received: received(ex),
    exchange: ex,
    hint,
  }];
}

function validationScenarios(op: Operation): Scenario[] {
  return kInvalidBodies.map(invalid => ({
    id: `errors.validation.${invalid.slug}`,
    section: kSection,
    title: `${opName(op)}: ${invalid.what} is answered 400 with the documented body${invalid.orElse ?? ''}`,
    tags: [...(invalid.optIn ? ['@thorough'] : []), '@errors', '@schema'],
    checks: ['validationErrorDocumented'],
    optIn: invalid.optIn,
    async run(ctx) {
      const probe = ctx.probe(op, `active key, ${invalid.label}`, activeKey(ctx), { body: invalid.body(bodyFor(op, ctx.target), ctx), transport: invalid.transport });
      const ex = await ctx.send(probe);
      if (invalid.whenServed && ex.status >= 200 && ex.status < 300) return ctx.verify('validationErrorDocumented', invalid.whenServed(ex, ctx));
      const hint = ex.status >= 500 ? 'An invalid body must be rejected with 400, not reach the handler and fail there.' : undefined;
      await ctx.verify('validationErrorDocumented', expectStatus(ex, 400, kDocumented400, hint));
    },
  }));
}

/** 403 with the documented body and no results: one customer outside the organisation rejects the whole request. */
function expectForbidden(ex: Exchange): Violation[] {
  const problems = expectStatus(ex, 403, kDocumented403, 'One customer outside the organisation rejects the whole request.');
  const results = resultsOf(ex).length;
  if (results > 0) {
    problems.push({
      summary: `${ex.label}: the answer carries ${results} results entr${results === 1 ? 'y' : 'ies'}`,
      expected: 'no results at all (no partial results)',
      received: received(ex),
      exchange: ex,
    });
  }
  return problems;
}

function foreignCustomerScenarios(op: Operation): Scenario[] {
  const foreign: Scenario = {
    id: 'errors.foreign-customer',
    section: kSection,
    title: `${opName(op)}: customerIds naming another organisation's customer, alone or beside the caller's own, are answered 403 with no partial results`,
    tags: ['@errors'],
    checks: ['foreignCustomerForbidden'],
    needs: ['otherOrg'],
    async run(ctx) {
      const foreign = ctx.target.otherOrgCustomerId!;
      const lists: [string, string[]][] = [
        ['customerIds = [other organisation\'s customer]', [foreign]],
        ['customerIds = [own customer, other organisation\'s customer]', [ctx.target.customerIds[0], foreign]],
      ];
      const problems: Violation[] = [];
      for (const [label, customerIds] of lists) {
        const body = writePointer(bodyFor(op, ctx.target), '/general/customerIds', customerIds);
        const ex = await ctx.send(ctx.probe(op, `active key, ${label}`, activeKey(ctx), { body: { json: body } }));
        problems.push(...expectForbidden(ex));
      }
      await ctx.verify('foreignCustomerForbidden', problems);
    },
  };
  // An id of no organisation at all: a server that only looks for other organisations' customers prices the rest.
  const unknown: Scenario = {
    id: 'errors.unknown-customer',
    section: kSection,
    title: `${opName(op)}: a customerIds entry that belongs to no organisation, beside the caller's own, is answered 403 with the documented body and no partial results`,
    tags: ['@thorough', '@errors'],
    checks: ['foreignCustomerForbidden'],
    optIn: 'DYSPACH_THOROUGH',
    async run(ctx) {
      const nobody = `CONFORMANCE-NO-SUCH-CUSTOMER-${crypto.randomBytes(4).toString('hex').toUpperCase()}`;
      const body = writePointer(bodyFor(op, ctx.target), '/general/customerIds', [ctx.target.customerIds[0], nobody]);

      const ex = await ctx.send(ctx.probe(op, 'active key, customerIds = [own customer, a customer of no organisation]', activeKey(ctx), { body: { json: body } }));

      await ctx.verify('foreignCustomerForbidden', expectForbidden(ex));
    },
  };
  return [foreign, unknown];
}

/** A fetch of the never-issued quote id with the active key: reused from an earlier test, else sent. */
async function unknownQuoteFetch(ctx: ScenarioContext, op: Operation): Promise<Exchange> {
  const path = pathWith(op, kNeverIssuedQuoteId);
  const earlier = reusable(ctx, ex => ex.operation === op.operationId && ex.request.method === op.method.toUpperCase() && ex.request.path === path);
  if (earlier) {
    await cite(ctx, earlier);
    return earlier;
  }
  return ctx.send(ctx.probe(op, 'active key, never-issued quote id', activeKey(ctx), { path }));
}

/** Characters that continue a token: a value next to one of them is part of something longer (`ACME-Q1`, `2026-05-12`). */
const kTokenCharacter = '[A-Za-z0-9_-]';

/**
 * The `values` that `text` shows as whole tokens, once the `asked` id is taken out: the caller
 * sent that id, so an answer that echoes it reveals nothing, and a customer id inside it (quote ids
 * like `ACME-Q000001`) is not the customer's name shown.
 */
export function valuesShown(text: string, values: string[], asked: string): string[] {
  const rest = [asked, encodeURIComponent(asked)].reduce((remaining, id) => remaining.split(id).join(' '), text);
  const escape = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return values.filter(value => new RegExp(`(?<!${kTokenCharacter})${escape(value)}(?!${kTokenCharacter})`).test(rest));
}

/** Per-response headers: framing, connection handling and timestamps, which say nothing of the resource. */
/**
 * Headers that infrastructure adds per response, whatever the answer says: transport, caches and
 * CDNs, tracing, load-balancer stickiness. Their presence tells nothing about the quote.
 */
const kPerResponseHeaders = new Set([
  'date', 'age', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'set-cookie', 'via', 'server-timing',
  'x-request-id', 'x-correlation-id', 'traceparent', 'tracestate', 'x-cache', 'x-cache-hits', 'x-served-by', 'x-timer',
  'cf-ray', 'cf-cache-status', 'x-amz-cf-id', 'x-amz-cf-pop', 'x-amzn-requestid', 'x-amzn-trace-id',
]);

/**
 * Header names one answer carries and the other does not (an ETag on the foreign quote's 404
 * only, say). Values are not compared: RateLimit-* and request ids differ from one answer to the next.
 */
export function headerNameDifferences(unknown: Exchange, foreign: Exchange): string[] {
  const names = (ex: Exchange) => Object.keys(ex.headers).filter(name => !kPerResponseHeaders.has(name));
  const onlyIn = (a: Exchange, b: Exchange) => names(a).filter(name => !(name in b.headers)).sort();
  const lines: string[] = [];
  const foreignOnly = onlyIn(foreign, unknown);
  const unknownOnly = onlyIn(unknown, foreign);
  if (foreignOnly.length) lines.push(`header(s) only on this run's quote: ${foreignOnly.join(', ')}`);
  if (unknownOnly.length) lines.push(`header(s) only on the unknown id: ${unknownOnly.join(', ')}`);
  return lines;
}

function quoteLookupScenarios(op: Operation): Scenario[] {
  return [
    {
      id: 'errors.unknown-quote',
      section: kSection,
      title: `${opName(op)}: a well-formed quote id that was never issued is answered 404 with the documented body`,
      tags: ['@errors'],
      checks: ['unknownQuoteNotFound'],
      async run(ctx) {
        const ex = await unknownQuoteFetch(ctx, op);
        await ctx.verify('unknownQuoteNotFound', expectStatus(ex, 404, kDocumented404));
      },
    },
    {
      id: 'errors.foreign-quote',
      section: kSection,
      title: `${opName(op)}: another organisation fetching this run's quote is answered 404 exactly as for an unknown id, and learns nothing of the quote`,
      tags: ['@errors'],
      checks: ['foreignQuoteHidden'],
      needs: ['otherOrg'],
      async run(ctx) {
        const quoteId = createdQuoteId(ctx.created);
        if (!ctx.created || !quoteId) return ctx.host.skip('the run\'s first request created no quote, so there is none for another organisation to ask for');
        const created = resultsOf(ctx.created).find(result => result.quoteId === quoteId);

        const otherKey = { role: 'other organisation\'s key', value: ctx.target.keys.otherOrg };
        const ex = await ctx.send(ctx.probe(op, 'other organisation\'s key, this run\'s quote', otherKey, { path: pathFor(op, ctx.created) }));
        // A 401 shows the key was not taken, not who may see the quote; the run never proved that key active.
        if (ex.status === 401)
          return ctx.host.skip(
            'the other organisation\'s key (DYSPACH_OTHER_ORG_API_KEY) was answered 401, so the answer says nothing of who may see the quote; check that the key is active',
          );
        const unknown = await unknownQuoteFetch(ctx, op);

        const hint403 = 'A 403 tells the caller that the quote id exists; the contract answers 404, as for an unknown id.';
        const problems = expectStatus(ex, 404, kDocumented404, ex.status === 403 ? hint403 : undefined);
        if (ex.status === 404 && unknown.status === 404) {
          const schema = documentedSchema(ex) ?? 'QuoteNotFound';
          const keys = (value: unknown) => JSON.stringify(typeof value === 'object' && value !== null ? Object.keys(value).sort() : typeof value);
          const difference =
            firstDifference(documentedPart(schema, unknown.json), documentedPart(schema, ex.json)) ??
            (keys(unknown.json) !== keys(ex.json) ? `fields ${keys(unknown.json)} ≠ ${keys(ex.json)}` : undefined);
          const headers = headerNameDifferences(unknown, ex);
          if (difference || headers.length > 0) {
            problems.push({
              summary: 'the 404 differs from the one for an unknown id, so the quote\'s existence shows',
              details: [...(difference ? [`${difference}  (unknown id ≠ this run's quote)`] : []), ...headers],
              exchange: ex,
            });
          }
        } else if (unknown.status !== 404) {
          ctx.observe(`the never-issued quote id was answered ${unknown.status}, so the other organisation's answer was not compared with it`);
        }

        const revealing = [
          typeof created?.customerId === 'string' && created.customerId.length >= 4 ? created.customerId : undefined,
          ...(created?.quotes ?? []).map(quote => quote?.rateId),
        ].filter((value): value is string => typeof value === 'string' && value.length > 0);
        const shown = valuesShown(ex.text, revealing, quoteId);
        if (shown.length > 0) {
          problems.push({
            summary: `the answer to the other organisation contains ${shown.length} value(s) of the quote (its customer or rate ids)`,
            expected: kDocumented404,
            received: received(ex),
            exchange: ex,
          });
        }
        await ctx.verify('foreignQuoteHidden', problems);
      },
    },
  ];
}

/**
 * The documented errors other than 401: 400 for each kind of invalid body, 403 for a foreign
 * customer, 404 for an unknown quote and for another organisation's.
 */
export function errorScenarios(ops: Operation[]): Scenario[] {
  const createOp = creatingOperation();
  const fetchOp = fetchingOperation(ops);
  return [...validationScenarios(createOp), ...foreignCustomerScenarios(createOp), ...(fetchOp ? quoteLookupScenarios(fetchOp) : [])];
}
