import crypto from 'node:crypto';

import type { OpenAPIV3_1 } from 'openapi-types';

import { received, type Violation } from '../checks';
import type { Exchange } from '../exchange';
import { loadDocument, resolveRef, writePointer, type Operation } from '../openapi';
import { bodyFor, createdQuoteId, creatingOperation, pathFor } from '../requests';
import type { Scenario, ScenarioContext } from '../suite';
import { activeKey, cite, expectServed, fetchingOperation, kActive, opName, reusable } from './helpers';

/** What the suite reads of a quote body; every field is checked before use, the schema check does the rest. */
export interface QuoteBody {
  origin?: unknown;
  destination?: unknown;
  goods?: GoodsLine[];
  results?: CustomerResult[];
}

interface GoodsLine {
  type?: unknown;
  quantity?: unknown;
  length?: unknown;
  width?: unknown;
  height?: unknown;
  weight?: unknown;
  chargeableWeight?: unknown;
}

interface CustomerResult {
  customerId?: unknown;
  quoteId?: unknown;
  noQuoteMessage?: unknown;
  quotes?: QuoteLine[];
}

interface QuoteLine {
  rateId?: unknown;
  serviceId?: unknown;
  rateCardId?: unknown;
  amount?: unknown;
  totalAmount?: unknown;
}

interface ItemSent {
  type: unknown;
  quantity: number;
  length: number;
  width: number;
  height: number;
  weight: number;
}

const kSection = { generate: 'Generate quotes', fetch: 'Fetch a quote', filters: 'Filters' } as const;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const listOf = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);

export function resultsOf(ex: Exchange): CustomerResult[] {
  return listOf<CustomerResult>((ex.json as QuoteBody | undefined)?.results).filter(isRecord);
}

/** The run's first request as a quote to examine; the scenario ends without a verdict when there is none. */
function createdQuote(ctx: ScenarioContext): { ex: Exchange; body: QuoteBody } {
  const ex = ctx.created;
  if (!ex || ex.status < 200 || ex.status >= 300 || !isRecord(ex.json))
    return ctx.host.skip(`the run's first request created no quote (${ex ? received(ex) : 'it was not sent'}), so there is none to examine`);
  return { ex, body: ex.json as QuoteBody };
}

function requestedItems(ex: Exchange): ItemSent[] {
  return listOf<ItemSent>((ex.request.body as { items?: unknown } | undefined)?.items).filter(isRecord);
}

function requestedCustomers(ex: Exchange): string[] {
  return listOf<string>((ex.request.body as { general?: { customerIds?: unknown } } | undefined)?.general?.customerIds);
}

// --- Documented fields only -----------------------------------------------------------------------

type SchemaObject = OpenAPIV3_1.SchemaObject;

/** The schemas that apply to a value: the schema itself and, recursively, its allOf members. */
function expand(schemas: unknown[]): SchemaObject[] {
  const doc = loadDocument();
  return schemas.flatMap(schema => {
    const resolved = resolveRef<SchemaObject>(doc, schema as SchemaObject);
    return [resolved, ...expand(resolved.allOf ?? [])];
  });
}

function project(schemas: unknown[], value: unknown, depth = 0): unknown {
  const applied = expand(schemas);
  if (depth > 16) return value;
  if (Array.isArray(value)) {
    const items = applied.flatMap(schema => ('items' in schema && schema.items ? [schema.items] : []));
    return items.length ? value.map(item => project(items, item, depth + 1)) : value;
  }
  if (!isRecord(value)) return value;
  const properties = new Map<string, unknown[]>();
  for (const schema of applied)
    for (const [name, property] of Object.entries(schema.properties ?? {})) properties.set(name, [...(properties.get(name) ?? []), property]);
  if (properties.size === 0) return value;
  return Object.fromEntries([...properties].filter(([name]) => name in value).map(([name, list]) => [name, project(list, value[name], depth + 1)]));
}

/**
 * `value` reduced to the fields the named component schema documents, so that comparisons ignore
 * what a server may add (a requestId, a currency).
 */
export function documentedPart(schemaName: string, value: unknown): unknown {
  return project([{ $ref: `#/components/schemas/${schemaName}` }], value);
}

/** A canonical form for comparing: object keys sorted, arrays in a fixed order, numbers to 6 decimals. */
function canonical(value: unknown): unknown {
  if (typeof value === 'number') return Math.round(value * 1e6) / 1e6;
  if (Array.isArray(value)) return value.map(canonical).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  if (isRecord(value)) return Object.fromEntries(Object.keys(value).sort().map(key => [key, canonical(value[key])]));
  return value;
}

/** The first place where two values differ, as `where: a ≠ b`; undefined when they are equal. */
export function firstDifference(a: unknown, b: unknown, where = ''): string | undefined {
  const left = canonical(a);
  const right = canonical(b);
  if (JSON.stringify(left) === JSON.stringify(right)) return undefined;
  if (isRecord(left) && isRecord(right)) {
    for (const key of new Set([...Object.keys(left), ...Object.keys(right)])) {
      const found = firstDifference(left[key], right[key], `${where}.${key}`);
      if (found) return found;
    }
  }
  if (Array.isArray(left) && Array.isArray(right) && left.length === right.length) {
    for (let i = 0; i < left.length; i++) {
      const found = firstDifference(left[i], right[i], `${where}[${i}]`);
      if (found) return found;
    }
  }
  const show = (value: unknown) => (value === undefined ? '(absent)' : JSON.stringify(value).slice(0, 120));
  return `${where.replace(/^\./, '') || 'body'}: ${show(left)} ≠ ${show(right)}`;
}

// --- Generate quotes: the answer to the run's first request -------------------------------------------

const kCentimetreTolerance = 0.01;
const kKilogramTolerance = 0.01;
const kCurrencyTolerance = 0.005;

function checkResultsPerCustomer(ex: Exchange, body: QuoteBody): Violation[] {
  const requested = requestedCustomers(ex);
  const answered = listOf<CustomerResult>(body.results).map(result => (isRecord(result) ? result.customerId : undefined));
  const sorted = (list: unknown[]) => JSON.stringify(list.map(String).sort());
  if (sorted(requested) === sorted(answered)) return [];
  return [
    {
      summary: `${answered.length} results entr${answered.length === 1 ? 'y' : 'ies'} for ${requested.length} requested customer${requested.length === 1 ? '' : 's'}`,
      expected: `one results entry each for ${JSON.stringify(requested)} (any order)`,
      received: `results[].customerId = ${JSON.stringify(answered)}`,
      exchange: ex,
    },
  ];
}

const closeTo = (value: unknown, wanted: number, tolerance: number) => typeof value === 'number' && Math.abs(value - wanted) <= tolerance;

function checkGoodsInCentimetres(ex: Exchange, body: QuoteBody): Violation[] {
  const items = requestedItems(ex);
  const goods = listOf<GoodsLine>(body.goods);
  const unused = new Set(goods.keys());
  const problems: Violation[] = [];
  items.forEach((item, index) => {
    const echoes = (line: GoodsLine) => (['length', 'width', 'height'] as const).every(side => closeTo(line?.[side], item[side] * 100, kCentimetreTolerance));
    const match = [...unused].find(i => echoes(goods[i]));
    if (match !== undefined) {
      unused.delete(match);
      problems.push(...checkEchoedAsSent(ex, item, index, goods[match], match));
      return;
    }
    const line = goods[index];
    const asSent = line && (['length', 'width', 'height'] as const).every(side => closeTo(line[side], item[side], kCentimetreTolerance));
    problems.push({
      summary: `items[${index}] (${item.length} × ${item.width} × ${item.height} m) has no goods line with those dimensions in centimetres`,
      expected: `goods length × width × height = ${item.length * 100} × ${item.width * 100} × ${item.height * 100} (± ${kCentimetreTolerance} cm)`,
      received: line ? `goods[${index}] = ${line.length} × ${line.width} × ${line.height}` : `no goods[${index}] (${goods.length} goods lines)`,
      exchange: ex,
      hint: asSent ? 'The dimensions are echoed as sent, in metres; the contract echoes them in centimetres.' : undefined,
    });
  });
  return problems;
}

/** Contract, Generate quotes: the goods are the items echoed back; only the dimensions change unit. */
function checkEchoedAsSent(ex: Exchange, item: ItemSent, index: number, line: GoodsLine, at: number): Violation[] {
  const differences: string[] = [];
  if (item.type !== undefined && line.type !== item.type) differences.push(`type ${JSON.stringify(line.type)}, sent ${JSON.stringify(item.type)}`);
  if (!closeTo(line.quantity, item.quantity, 0)) differences.push(`quantity ${JSON.stringify(line.quantity)}, sent ${item.quantity}`);
  if (!closeTo(line.weight, item.weight, kKilogramTolerance)) differences.push(`weight ${JSON.stringify(line.weight)}, sent ${item.weight} kg`);
  if (differences.length === 0) return [];
  const grams = closeTo(line.weight, item.weight * 1000, kKilogramTolerance * 1000);
  return [{
    summary: `items[${index}] is echoed as goods[${at}] with ${differences.join('; ')}`,
    expected: `type ${JSON.stringify(item.type)}, quantity ${item.quantity}, weight ${item.weight} (kilograms, as sent)`,
    received: `goods[${at}] type ${JSON.stringify(line.type)}, quantity ${JSON.stringify(line.quantity)}, weight ${JSON.stringify(line.weight)}`,
    exchange: ex,
    hint: grams ? 'The weight is a thousand times the one sent: it seems echoed in grams; the contract keeps kilograms.' : undefined,
  }];
}

interface LocationSent {
  postalCode?: unknown;
  countryCode?: unknown;
}

/** Contract, Generate quotes: origin and destination are the requested places, enriched; countryCode defaults to AU. */
function checkLocations(ex: Exchange, body: QuoteBody): Violation[] {
  const sent = (ex.request.body ?? {}) as { origin?: LocationSent; destination?: LocationSent };
  const wanted = (side: 'origin' | 'destination') => ({
    postalCode: String(sent[side]?.postalCode ?? ''),
    countryCode: typeof sent[side]?.countryCode === 'string' ? (sent[side].countryCode as string).toUpperCase() : 'AU',
  });
  const got = (side: 'origin' | 'destination') => {
    const location = isRecord(body[side]) ? body[side] : {};
    return { postalCode: String(location.postalCode ?? '(absent)').trim(), countryCode: String(location.countryCode ?? '(absent)').trim().toUpperCase() };
  };
  const same = (a: { postalCode: string; countryCode: string }, b: { postalCode: string; countryCode: string }) => a.postalCode === b.postalCode && a.countryCode === b.countryCode;
  const show = (place: { postalCode: string; countryCode: string }) => `${place.postalCode} ${place.countryCode}`;
  const swapped = same(got('origin'), wanted('destination')) && same(got('destination'), wanted('origin'));
  const problems: Violation[] = [];
  for (const side of ['origin', 'destination'] as const) {
    if (same(got(side), wanted(side))) continue;
    problems.push({
      summary: `${side} is ${show(got(side))}, but ${show(wanted(side))} was requested`,
      expected: `${side}.postalCode ${wanted(side).postalCode}, ${side}.countryCode ${wanted(side).countryCode}`,
      received: `${side} ${JSON.stringify(body[side])?.slice(0, 200)}`,
      exchange: ex,
      hint: swapped ? 'Origin and destination seem swapped.' : undefined,
    });
  }
  return problems;
}

function checkChargeableWeight(ex: Exchange, body: QuoteBody): Violation[] {
  const items = requestedItems(ex);
  const goods = listOf<GoodsLine>(body.goods);
  const problems: Violation[] = [];
  items.forEach((item, index) => {
    const line = goods[index];
    if (!isRecord(line)) return;
    const actual = item.weight * item.quantity;
    const chargeable = line.chargeableWeight;
    if (typeof chargeable === 'number' && chargeable + kKilogramTolerance >= actual) return;
    problems.push({
      summary: `goods[${index}]: chargeableWeight ${JSON.stringify(chargeable)} is below the actual weight ${item.quantity} × ${item.weight} kg`,
      expected: `chargeableWeight ≥ ${actual} kg (weight × quantity)`,
      received: `chargeableWeight ${JSON.stringify(chargeable)}`,
      exchange: ex,
      hint: typeof chargeable === 'number' && Math.abs(chargeable * item.quantity - actual) < kKilogramTolerance ? 'It equals one piece\'s weight: the quantity seems left out.' : undefined,
    });
  });
  return problems;
}

function checkTotals(ex: Exchange, body: QuoteBody): Violation[] {
  const problems: Violation[] = [];
  listOf<CustomerResult>(body.results).forEach((result, r) => {
    if (!isRecord(result)) return;
    const quotes = listOf<QuoteLine>(result.quotes);
    if (quotes.length > 0 && result.noQuoteMessage !== '') {
      problems.push({
        summary: `results[${r}] has ${quotes.length} quotes but noQuoteMessage ${JSON.stringify(result.noQuoteMessage)}`,
        expected: 'noQuoteMessage "" when there are quotes',
        exchange: ex,
      });
    }
    quotes.forEach((quote, q) => {
      const where = `results[${r}].quotes[${q}]${isRecord(quote) && quote.serviceId ? ` (${String(quote.serviceId)})` : ''}`;
      if (typeof quote?.amount !== 'number' || typeof quote.totalAmount !== 'number') {
        problems.push({
          summary: `${where}: amount and totalAmount are not both numbers, so they cannot be compared`,
          received: `amount ${JSON.stringify(quote?.amount)}, totalAmount ${JSON.stringify(quote?.totalAmount)}`,
          exchange: ex,
        });
      } else if (quote.totalAmount + kCurrencyTolerance < quote.amount) {
        problems.push({
          summary: `${where}: totalAmount ${quote.totalAmount} is below amount ${quote.amount}`,
          expected: 'totalAmount ≥ amount (the total includes the freight amount)',
          exchange: ex,
        });
      }
    });
  });
  return problems;
}

type CreatedQuoteCheck = (ex: Exchange, body: QuoteBody) => Violation[];

/** A scenario that reads the answer to the run's first request: no request of its own. */
function createdQuoteScenario(id: string, title: string, check: Scenario['checks'][number], verify: CreatedQuoteCheck): Scenario {
  return {
    id,
    section: kSection.generate,
    title,
    tags: ['@quotes'],
    checks: [check],
    async run(ctx) {
      const { ex, body } = createdQuote(ctx);
      await cite(ctx, ex, 'sent before the tests');
      await ctx.verify(check, verify(ex, body));
    },
  };
}

// --- Fetch a quote ------------------------------------------------------------------------------------

function checkFetchedQuote(created: Exchange, fetched: Exchange, quoteId: string): Violation[] {
  const served = expectServed(fetched, 'The active key created this quote; fetching it with the same key must return it.');
  if (served.length) return served;
  const body = fetched.json as QuoteBody | undefined;
  const results = listOf<CustomerResult>(body?.results);
  if (results.length !== 1) {
    const summary = `the fetched quote has ${results.length} results entries`;
    return [{ summary, expected: 'exactly one results entry', received: received(fetched), exchange: fetched }];
  }

  const original = resultsOf(created).find(result => result.quoteId === quoteId);
  const problems: Violation[] = [];
  const compare = (what: string, schema: string, was: unknown, now: unknown) => {
    const difference = firstDifference(documentedPart(schema, was), documentedPart(schema, now));
    if (difference) {
      problems.push({
        summary: `${what} differs from the generated quote`,
        details: [`${difference}  (generated ≠ fetched)`],
        exchange: fetched,
      });
    }
  };
  const createdBody = created.json as QuoteBody;
  compare(`the results entry of ${quoteId}`, 'CustomerResult', original, results[0]);
  compare('origin', 'EnrichedLocation', createdBody.origin, body?.origin);
  compare('destination', 'EnrichedLocation', createdBody.destination, body?.destination);
  compare('goods', 'QuoteResponse', { goods: createdBody.goods }, { goods: body?.goods });
  return problems;
}

// --- Filters --------------------------------------------------------------------------------------------

/**
 * The five documented filter arrays. A quote line carries its serviceId and rateCardId only, so the
 * suite judges those two; carrierIds, serviceTypes and serviceClasses are sent empty (no restriction)
 * or with a value that cannot match (nothing priced), where no quote line is needed to judge.
 */
interface FilterSet {
  carrierIds?: string[];
  serviceIds?: string[];
  rateCardIds?: string[];
  serviceTypes?: string[];
  serviceClasses?: string[];
}

const pairOf = (quote: QuoteLine) => `${String(quote.serviceId)} / ${String(quote.rateCardId)}`;
const quotesOf = (result: CustomerResult | undefined) => listOf<QuoteLine>(result?.quotes).filter(isRecord);

/** Contract, Filters: an empty or missing array puts no restriction; non-empty ones combine with AND. */
function satisfies(quote: QuoteLine, filters: FilterSet): boolean {
  const within = (values: string[] | undefined, value: unknown) => !values?.length || values.includes(String(value));
  return within(filters.serviceIds, quote.serviceId) && within(filters.rateCardIds, quote.rateCardId);
}

async function sendFiltered(ctx: ScenarioContext, filters: FilterSet, label: string): Promise<Exchange> {
  const op = creatingOperation();
  const body = writePointer(bodyFor(op, ctx.target), '/filters', filters);
  return ctx.send(ctx.probe(op, `active key, ${label}`, activeKey(ctx), { body: { json: body } }));
}

/**
 * The filtered answer's results by customer, and a violation when it is not a 200. A customer with
 * no entry is not judged here: one entry per customer is resultsPerCustomer's clause.
 */
function filteredResults(ex: Exchange): { byCustomer: Map<string, CustomerResult>; problems: Violation[] } {
  const byCustomer = new Map(resultsOf(ex).map(result => [String(result.customerId), result]));
  if (ex.status >= 200 && ex.status < 300) return { byCustomer, problems: [] };
  const summary = `${ex.label}: answered ${ex.status}, expected 200`;
  return { byCustomer, problems: [{ summary, expected: '200 with one results entry per customer', received: received(ex), exchange: ex }] };
}

const kFilterHint = 'The filters are documented as optional string arrays in the request body, next to general, origin, destination and items.';

/** The two services most customers of the unfiltered answer were offered (one, when it offered only one). */
function servicesToFilterBy(results: CustomerResult[]): string[] {
  const offered = results.map(result => new Set(quotesOf(result).map(quote => String(quote.serviceId))));
  const reach = (service: string) => offered.filter(set => set.has(service)).length;
  return [...new Set(offered.flatMap(set => [...set]))].sort((a, b) => reach(b) - reach(a)).slice(0, 2);
}

function filterScenarios(): Scenario[] {
  const createName = opName(creatingOperation());
  return [
    {
      id: 'filters.service',
      section: kSection.filters,
      title: `${createName}: filters.serviceIds with two services of the unfiltered answer (one, if it offered only one) keeps exactly those services' quotes, each one still offered (OR within a dimension)`,
      tags: ['@quotes', '@filters'],
      checks: ['filterByService'],
      async run(ctx) {
        const { ex: created } = createdQuote(ctx);
        const results = resultsOf(created);
        const services = servicesToFilterBy(results);
        if (services.length === 0) return ctx.host.skip('the run\'s first request was answered with no quotes, so there is no service to filter by');

        const ex = await sendFiltered(ctx, { serviceIds: services }, `filters.serviceIds = ${JSON.stringify(services)}`);

        const { byCustomer, problems } = filteredResults(ex);
        for (const original of results) {
          const customer = String(original.customerId);
          if (!byCustomer.has(customer)) continue;
          const quotes = quotesOf(byCustomer.get(customer));
          const others = quotes.filter(quote => !services.includes(String(quote.serviceId)));
          if (others.length) {
            problems.push({
              summary: `customer ${customer}: ${others.length} quote(s) of other services`,
              expected: `only serviceIds ${JSON.stringify(services)}`,
              received: `serviceIds ${JSON.stringify([...new Set(others.map(quote => quote.serviceId))])}`,
              exchange: ex,
              hint: kFilterHint,
            });
          }
          const lost = services.filter(service => quotesOf(original).some(quote => quote.serviceId === service) && !quotes.some(quote => quote.serviceId === service));
          if (lost.length) {
            const onlyFirstKept = services.length > 1 && lost.length === 1 && lost[0] !== services[0];
            problems.push({
              summary: `customer ${customer}: no quote of ${lost.join(' or ')}, though the unfiltered answer offered ${lost.length === 1 ? 'it' : 'them'}`,
              expected: `the quotes of ${JSON.stringify(services.filter(service => quotesOf(original).some(quote => quote.serviceId === service)))}`,
              received: `serviceIds ${JSON.stringify([...new Set(quotes.map(quote => quote.serviceId))])}`,
              exchange: ex,
              hint: onlyFirstKept ? 'Only the first serviceIds value seems applied; values within one dimension combine with OR.' : undefined,
            });
          }
        }
        await ctx.verify('filterByService', problems);
      },
    },
    {
      id: 'filters.and-across-dimensions',
      section: kSection.filters,
      title: `${createName}: filters.serviceIds with two services and filters.rateCardIds with one card keep only quotes that satisfy both (AND across, OR within), while empty carrierIds, serviceTypes and serviceClasses restrict nothing`,
      tags: ['@quotes', '@filters'],
      checks: ['filtersCombineWithAnd'],
      async run(ctx) {
        const { ex: created } = createdQuote(ctx);
        const results = resultsOf(created);
        let pick: [QuoteLine, QuoteLine] | undefined;
        for (const result of results) {
          const [a] = quotesOf(result);
          const b = quotesOf(result).find(quote => quote.serviceId !== a?.serviceId);
          if (a && b) {
            pick = [a, b];
            break;
          }
        }
        if (!pick) return ctx.host.skip('no customer of the run\'s first request was offered two distinct services, so AND across dimensions cannot be told from OR');
        const [a, b] = pick;
        // Contract, Filters: an empty array puts no restriction on its dimension.
        const filters = { carrierIds: [], serviceIds: [String(a.serviceId), String(b.serviceId)], rateCardIds: [String(a.rateCardId)], serviceTypes: [], serviceClasses: [] };

        const label = `filters.serviceIds = ${JSON.stringify(filters.serviceIds)}, rateCardIds = ${JSON.stringify(filters.rateCardIds)}, the other three []`;
        const ex = await sendFiltered(ctx, filters, label);

        const { byCustomer, problems } = filteredResults(ex);
        for (const original of results) {
          const customer = String(original.customerId);
          if (!byCustomer.has(customer)) continue;
          const got = quotesOf(byCustomer.get(customer));
          const outside = got.filter(quote => !satisfies(quote, filters));
          const wanted = new Set(quotesOf(original).filter(quote => satisfies(quote, filters)).map(pairOf));
          const missing = [...wanted].filter(pair => !got.some(quote => pairOf(quote) === pair));
          const matchesOne = (quote: QuoteLine) => satisfies(quote, { serviceIds: filters.serviceIds }) || satisfies(quote, { rateCardIds: filters.rateCardIds });
          if (outside.length) {
            problems.push({
              summary: `customer ${customer}: ${outside.length} quote(s) that fail one of the two filters`,
              expected: `service in ${JSON.stringify(filters.serviceIds)} AND rate card in ${JSON.stringify(filters.rateCardIds)}: ${JSON.stringify([...wanted])}`,
              received: `service / rate card ${JSON.stringify(got.map(pairOf))}`,
              exchange: ex,
              hint: outside.every(matchesOne) ? 'Each extra quote satisfies one filter: the dimensions seem combined with OR.' : undefined,
            });
          }
          if (missing.length) {
            problems.push({
              summary: `customer ${customer}: quotes that satisfy both filters are missing`,
              expected: JSON.stringify([...wanted]),
              received: `service / rate card ${JSON.stringify(got.map(pairOf))}`,
              exchange: ex,
              hint: got.length === 0 ? 'Nothing was priced: an empty carrierIds, serviceTypes or serviceClasses seems to match nothing, where it should restrict nothing.' : undefined,
            });
          }
        }
        await ctx.verify('filtersCombineWithAnd', problems);
      },
    },
    {
      id: 'filters.no-match',
      section: kSection.filters,
      title: `${createName}: a filter that matches nothing (a carrierIds value no carrier has) is answered 200 with an empty quotes list for every customer`,
      tags: ['@quotes', '@filters'],
      checks: ['emptyFilterResultIsSuccess'],
      async run(ctx) {
        const carrier = `CONFORMANCE-NO-SUCH-CARRIER-${crypto.randomBytes(4).toString('hex').toUpperCase()}`;

        const ex = await sendFiltered(ctx, { carrierIds: [carrier] }, 'filters.carrierIds = [a never-existing carrier]');

        const problems: Violation[] = [];
        if (ex.status !== 200) {
          problems.push({
            summary: `answered ${ex.status}, expected 200`,
            expected: '200 with quotes: [] for every customer (a filter that matches nothing is not an error)',
            received: received(ex),
            exchange: ex,
          });
        }
        for (const result of ex.status === 200 ? resultsOf(ex) : []) {
          const quotes = quotesOf(result);
          if (quotes.length) {
            problems.push({
              summary: `customer ${String(result.customerId)}: ${quotes.length} quote(s), though carrierIds names only ${carrier}, which does not exist`,
              expected: 'quotes: []',
              received: `serviceIds ${JSON.stringify(quotes.map(quote => quote.serviceId))}`,
              exchange: ex,
              hint: `The carrierIds filter seems not applied. ${kFilterHint}`,
            });
          }
        }
        await ctx.verify('emptyFilterResultIsSuccess', problems);
      },
    },
  ];
}

/**
 * The generate-quotes answer (read from the run's first request, no new request), the fetch of the
 * quote it created, and the filters.
 */
export function quoteScenarios(ops: Operation[]): Scenario[] {
  const createName = opName(creatingOperation());
  const fetchOp = fetchingOperation(ops);
  const scenarios: Scenario[] = [
    createdQuoteScenario(
      'quotes.results-per-customer',
      `${createName}: the answer has one results entry per requested customer`,
      'resultsPerCustomer',
      checkResultsPerCustomer,
    ),
    createdQuoteScenario(
      'quotes.locations',
      `${createName}: origin and destination are the requested postcodes and countries (AU when none is sent), enriched`,
      'locationsMatchRequest',
      checkLocations,
    ),
    createdQuoteScenario(
      'quotes.goods-in-centimetres',
      `${createName}: goods echo each item's type, quantity and weight in kilograms unchanged, with its dimensions in centimetres`,
      'goodsEchoInCentimetres',
      checkGoodsInCentimetres,
    ),
    createdQuoteScenario(
      'quotes.chargeable-weight',
      `${createName}: each goods line's chargeableWeight is at least its weight times its quantity`,
      'chargeableWeightCoversActual',
      checkChargeableWeight,
    ),
    createdQuoteScenario(
      'quotes.totals',
      `${createName}: every quote's totalAmount is at least its amount, and noQuoteMessage is empty where there are quotes`,
      'totalsConsistent',
      checkTotals,
    ),
  ];
  if (fetchOp) {
    scenarios.push({
      id: 'quotes.fetch-matches',
      section: kSection.fetch,
      title: `${opName(fetchOp)}: the quote this run created is returned as generated, with exactly one results entry`,
      tags: ['@quotes'],
      checks: ['fetchedQuoteMatches'],
      async run(ctx) {
        const { ex: created } = createdQuote(ctx);
        const quoteId = createdQuoteId(created);
        if (!quoteId) return ctx.host.skip('the run\'s first request gave no quote id to fetch');
        const path = pathFor(fetchOp, created);
        let fetched = reusable(ctx, ex => ex.operation === fetchOp.operationId && ex.request.method === fetchOp.method.toUpperCase() && ex.request.path === path);
        if (fetched) await cite(ctx, fetched);
        else fetched = await ctx.send(ctx.probe(fetchOp, kActive, activeKey(ctx)));

        await ctx.verify('fetchedQuoteMatches', checkFetchedQuote(created, fetched, quoteId));
      },
    });
  }
  scenarios.push(...filterScenarios());
  return scenarios;
}
