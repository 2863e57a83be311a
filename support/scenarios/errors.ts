import { documentedSchema, received, type Violation } from '../checks';
import type { Exchange, Probe } from '../exchange';
import { writePointer, type Operation } from '../openapi';
import { bodyFor, createdQuoteId, creatingOperation, kNeverIssuedQuoteId, pathFor } from '../requests';
import type { Scenario, ScenarioContext } from '../suite';
import { opName } from './helpers';
import { activeKey, cite, documentedPart, fetchingOperation, firstDifference, pathWith, resultsOf, reusable } from './quotes';

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
    what: `a general.customerIds with ${kMaxCustomers + 1} entries (more than ${kMaxCustomers})`,
    label: `general.customerIds with ${kMaxCustomers + 1} entries`,
    // The organisation's own ids, repeated: only the count is wrong, so 403 is no answer.
    body: (valid, ctx) => {
      const own = ctx.target.customerIds;
      return { json: writePointer(valid, '/general/customerIds', Array.from({ length: kMaxCustomers + 1 }, (_, i) => own[i % own.length])) };
    },
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
    title: `${opName(op)}: ${invalid.what} is answered 400 with the documented body`,
    tags: ['@errors', '@schema'],
    checks: ['validationErrorDocumented'],
    async run(ctx) {
      const probe = ctx.probe(op, `active key, ${invalid.label}`, activeKey(ctx), { body: invalid.body(bodyFor(op, ctx.target), ctx), transport: invalid.transport });
      const ex = await ctx.send(probe);
      const hint = ex.status >= 500 ? 'An invalid body must be rejected with 400, not reach the handler and fail there.' : undefined;
      await ctx.verify('validationErrorDocumented', expectStatus(ex, 400, kDocumented400, hint));
    },
  }));
}

function foreignCustomerScenario(op: Operation): Scenario {
  return {
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
        problems.push(...expectStatus(ex, 403, kDocumented403, 'One customer outside the organisation rejects the whole request.'));
        if (resultsOf(ex).length > 0) {
          problems.push({
            summary: `${ex.label}: the answer carries ${resultsOf(ex).length} results entr${resultsOf(ex).length === 1 ? 'y' : 'ies'}`,
            expected: 'no results at all (no partial results)',
            received: received(ex),
            exchange: ex,
          });
        }
      }
      await ctx.verify('foreignCustomerForbidden', problems);
    },
  };
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
          if (difference) {
            problems.push({
              summary: 'the 404 differs from the one for an unknown id, so the quote\'s existence shows',
              details: [`${difference}  (unknown id ≠ this run's quote)`],
              exchange: ex,
            });
          }
        } else if (unknown.status !== 404) {
          ctx.observe(`the never-issued quote id was answered ${unknown.status}, so the other organisation's answer was not compared with it`);
        }

        // The quote's own id is left out when an unknown id's answer also echoes the id that was asked for.
        const echoesId = unknown.text.includes(kNeverIssuedQuoteId);
        const revealing = [
          ...(echoesId ? [] : [quoteId]),
          typeof created?.customerId === 'string' && created.customerId.length >= 4 ? created.customerId : undefined,
          ...(created?.quotes ?? []).map(quote => quote?.rateId),
        ].filter((value): value is string => typeof value === 'string' && value.length > 0);
        const shown = revealing.filter(value => ex.text.includes(value));
        if (shown.length > 0) {
          problems.push({
            summary: `the answer to the other organisation contains ${shown.length} value(s) of the quote (its id, customer or rate ids)`,
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
  return [...validationScenarios(createOp), foreignCustomerScenario(createOp), ...(fetchOp ? quoteLookupScenarios(fetchOp) : [])];
}
