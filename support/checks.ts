import type { Exchange } from './exchange';
import { findOperation } from './openapi';
import { checkSchema, formatSchemaProblems } from './schemas';

/**
 * The catalogue of checks. A check is named for the property it verifies; its `failure` is the title
 * of what went wrong when it does not hold. `severity` feeds the reports (authentication → blocker).
 */
export const kChecks = {
  missingKeyRejected: { failure: 'Request without a key not answered 401', clause: 'Authentication: 401 when the x-api-key header is absent', severity: 'blocker' },
  emptyKeyRejected: { failure: 'Empty key not answered 401', clause: 'Authentication: 401 when x-api-key does not match an active key', severity: 'blocker' },
  prefixKeyRejected: { failure: 'Portal prefix accepted as a key', clause: 'Authentication: a prefix is not a key', severity: 'blocker' },
  revokedKeyRejected: { failure: 'Revoked key not answered 401', clause: 'Authentication: a revoked key stops working immediately', severity: 'blocker' },
  activeKeyAccepted: { failure: 'Active key not served', clause: 'Authentication: every request carries an active organisation key in x-api-key', severity: 'blocker' },
  bodyMatchesSchema: { failure: 'Response body violates schema', clause: 'Every response body matches its documented schema', severity: 'critical' },
  jsonContentType: { failure: 'Response is not JSON', clause: 'Transport: request and response bodies are JSON', severity: 'critical' },
  nearMissRejected: { failure: 'Near miss of the active key accepted', clause: 'Authentication: 401 unless x-api-key matches an active key exactly', severity: 'blocker' },
  keyOnlyFromHeader: { failure: 'Key accepted outside x-api-key', clause: 'Authentication: the key is read from the x-api-key header alone', severity: 'blocker' },
  hostileValueRejected: { failure: 'Hostile key value not answered 401', clause: 'Authentication: 401 for any value that is not an active key; never 2xx or 5xx', severity: 'blocker' },
  headerNameCaseInsensitive: { failure: 'x-api-key header name matched case-sensitively', clause: 'HTTP: header names are case-insensitive (RFC 9110 §5.1)', severity: 'critical' },
  rejectionsIndistinguishable: { failure: 'Rejections tell key kinds apart', clause: 'Authentication: one 401, one body, for every rejected key', severity: 'critical' },
  rejectionEchoesNothing: { failure: 'Rejection echoes what was sent', clause: 'Authentication: a 401 reveals nothing of the presented value', severity: 'critical' },
  authenticationBeforeValidation: { failure: 'Body validated before authentication', clause: 'Authentication comes first: no key and an invalid body gets 401, not 400', severity: 'blocker' },
  noGuardBypass: { failure: 'Path or method variant served without a key', clause: 'Authentication: every request is authenticated, whatever route reaches the handler', severity: 'blocker' },
  everyActiveKeyAccepted: { failure: 'Another active key of the organisation not served', clause: 'Authentication: an organisation may hold several keys, each working on its own', severity: 'blocker' },
  authenticationPerRequest: { failure: 'A connection stayed authenticated', clause: 'Authentication: every request carries its own key; an earlier request on the same connection proves nothing', severity: 'blocker' },
  duplicateKeyHeaderRejected: { failure: 'Repeated x-api-key header served', clause: 'Authentication: 401 unless the x-api-key value is an active key (repeated field lines combine, RFC 9110 §5.3)', severity: 'critical' },
  validationErrorDocumented: { failure: 'Invalid body not answered 400 as documented', clause: 'Errors: 400 when the body fails validation', severity: 'critical' },
  foreignCustomerForbidden: { failure: 'Foreign customer not answered 403', clause: 'Errors: 403 when a customerIds entry is not in the caller\'s organisation; no partial results', severity: 'blocker' },
  foreignQuoteHidden: { failure: 'Another organisation\'s quote revealed', clause: 'Fetch a quote: the quote must belong to the caller\'s organisation (404 as for an unknown id)', severity: 'blocker' },
  unknownQuoteNotFound: { failure: 'Unknown quote not answered 404', clause: 'Errors: 404 for an unknown quote id', severity: 'critical' },
  resultsPerCustomer: { failure: 'Results do not match the requested customers', clause: 'Generate quotes: one results entry per requested customer', severity: 'critical' },
  locationsMatchRequest: { failure: 'Enriched locations do not match the request', clause: 'Generate quotes: origin and destination are the requested places, enriched', severity: 'critical' },
  goodsEchoInCentimetres: { failure: 'Goods echo does not match the items', clause: 'Generate quotes: goods echo the items\' type, quantity and weight (kg) unchanged, with dimensions in centimetres', severity: 'normal' },
  chargeableWeightCoversActual: { failure: 'Chargeable weight below actual weight', clause: 'Generate quotes: chargeableWeight covers the items\' weight times quantity', severity: 'normal' },
  totalsConsistent: { failure: 'Quote totals inconsistent', clause: 'Generate quotes: totalAmount is at least amount; noQuoteMessage is empty when there are quotes', severity: 'normal' },
  fetchedQuoteMatches: { failure: 'Fetched quote differs from the generated one', clause: 'Fetch a quote: returns the quote generated earlier, with exactly one results entry', severity: 'critical' },
  filterByService: { failure: 'Service filter not applied', clause: 'Filters: a non-empty serviceIds keeps exactly the quotes of those services (OR within a dimension)', severity: 'normal' },
  filtersCombineWithAnd: { failure: 'Filters do not combine with AND', clause: 'Filters: AND across dimensions, OR within one', severity: 'normal' },
  emptyFilterResultIsSuccess: { failure: 'Filter matching nothing not answered 200 with empty quotes', clause: 'Filters: a filter that matches nothing is not an error', severity: 'normal' },
  rateLimitHeadersPresent: { failure: 'RateLimit headers missing or malformed', clause: 'Rate limits: every response carries RateLimit-Limit, -Remaining and -Reset as integers', severity: 'critical' },
  rateLimitRemainingFalls: { failure: 'RateLimit window does not count down', clause: 'Rate limits: a fixed window counts every request: Remaining falls and Reset counts down', severity: 'normal' },
  rateLimitSharedAcrossKeys: { failure: 'Rate limit not shared by the organisation\'s keys', clause: 'Rate limits: per organisation, across all of its keys', severity: 'normal' },
  throttledResponseDocumented: { failure: 'Throttled request not answered as documented', clause: 'Rate limits: 429 with Retry-After and the documented body when the window is spent', severity: 'critical' },
  throttleLiftsAfterRetryAfter: { failure: 'Still throttled after Retry-After', clause: 'Rate limits: the window resets; a request after Retry-After seconds is served', severity: 'normal' },
} as const satisfies Record<string, { failure: string; clause: string; severity: 'blocker' | 'critical' | 'normal' }>;

export type CheckId = keyof typeof kChecks;

/** One way a check did not hold, written for a partner reading a CI log. */
export interface Violation {
  /** One line: what is wrong, e.g. "answered 200, expected 401". */
  summary: string;
  expected?: string;
  received?: string;
  details?: string[];
  /** The exchange the violation is about (its request is shown by role, never by key). */
  exchange?: Exchange;
  hint?: string;
}

export function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const type = value.split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type);
}

export function bodyStart(ex: Exchange, limit = 200): string {
  if (ex.text.length === 0) return '(empty body)';
  const oneLine = ex.text.replace(/\s+/g, ' ');
  return oneLine.length > limit ? `${oneLine.slice(0, limit)}…` : oneLine;
}

export function received(ex: Exchange): string {
  return `${ex.status}${ex.statusText ? ` ${ex.statusText}` : ''}, body ${bodyStart(ex)}`;
}

/** The body schema the document gives for this exchange's operation and status, if any. */
export function documentedSchema(ex: Exchange): string | undefined {
  if (!ex.operation) return undefined;
  return findOperation(ex.operation).responseSchemas.get(String(ex.status));
}

/** Every documented response is JSON. */
export function checkJsonContentType(ex: Exchange): Violation[] {
  if (!documentedSchema(ex) || ex.request.method === 'HEAD') return [];
  const problems: Violation[] = [];
  if (!isJsonContentType(ex.headers['content-type']))
    problems.push({ summary: `${ex.status} answered with content type ${ex.headers['content-type'] ?? '(none)'}`, expected: 'application/json', received: received(ex), exchange: ex });
  else if (ex.jsonError)
    problems.push({ summary: `${ex.status} body is not valid JSON (${ex.jsonError})`, expected: 'a JSON body', received: received(ex), exchange: ex });
  return problems;
}

/** A documented response's body validates against its component schema. */
export function checkBodySchema(ex: Exchange, schemaOverride?: string): Violation[] {
  const schema = schemaOverride ?? documentedSchema(ex);
  if (!schema || ex.jsonError || ex.request.method === 'HEAD') return [];
  const problems = checkSchema(schema, ex.json);
  if (problems.length === 0) return [];
  return [
    {
      summary: `${ex.status} body violates ${schema} (${problems.length} violation${problems.length === 1 ? '' : 's'})`,
      details: formatSchemaProblems(problems),
      received: `body ${bodyStart(ex)}`,
      exchange: ex,
    },
  ];
}

const kIntegerHeader = /^\d+$/;

/** Where the document requires the RateLimit headers for this status, each is a non-negative integer. */
export function checkRateLimitHeaders(ex: Exchange): Violation[] {
  if (!ex.operation || !ex.authenticated) return [];
  const required = findOperation(ex.operation).requiredHeaders.get(String(ex.status)) ?? [];
  const problems: Violation[] = [];
  for (const name of required) {
    const value = ex.headers[name.toLowerCase()];
    if (value === undefined) problems.push({ summary: `${ex.status} has no ${name} header`, expected: `${name}: a non-negative integer`, received: '(absent)', exchange: ex });
    else if (!kIntegerHeader.test(value.trim()))
      problems.push({ summary: `${ex.status} has ${name}: ${JSON.stringify(value.slice(0, 40))}, not a non-negative integer`, exchange: ex });
  }
  return problems;
}

export function intHeader(ex: Exchange, name: string): number | undefined {
  const value = ex.headers[name.toLowerCase()]?.trim();
  return value !== undefined && kIntegerHeader.test(value) ? Number(value) : undefined;
}
