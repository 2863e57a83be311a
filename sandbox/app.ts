import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

import type { HttpBindings } from '@hono/node-server';
import { Hono, type Context } from 'hono';

import { checkSchema } from '../support/schemas';
import { kOrganisations } from './data';
import { FaultSet, type FaultName } from './faults';
import { issueKey, KeyStore, sha256, type StoredKey } from './keys';
import { cardsFor, enrich, goodsFor, matchesFilters, newQuoteId, priceCard, type Filters, type ItemRequest, type LocationRequest } from './pricing';

export interface SandboxOptions {
  faults?: Iterable<string>;
  /** `documented` makes the sandbox's own choices; `alternative` makes the other legal ones where the contract is silent. */
  choices?: 'documented' | 'alternative';
  rateLimit?: number;
  windowSeconds?: number;
  /** Serve under a path prefix, e.g. `/sandbox`. */
  basePath?: string;
  /** Derive keys from this seed instead of at random (the suite's own tests use it). */
  keySeed?: Buffer;
}

export interface SandboxCredentials {
  keys: { active: string; second: string; revoked: string; otherOrg: string };
  customerIds: string[];
  otherOrgCustomerId: string;
}

export interface SandboxStats {
  received: number;
  byStatus: Record<string, number>;
}

type Env = { Bindings: HttpBindings; Variables: { key: StoredKey } };

interface StoredQuote {
  orgId: string;
  createdAt: number;
  body: { origin: unknown; destination: unknown; goods: unknown; results: { quoteId: string }[] };
  result: { quoteId: string };
}

const kQuotePath = '/v1/org/quote/getQuote';

export const kInvalidKeyBody = { message: 'Invalid API key' };

export function createSandbox(options: SandboxOptions = {}) {
  const faults = new FaultSet(options.faults);
  const has = (name: FaultName) => faults.has(name);
  const alternative = options.choices === 'alternative';
  const limit = options.rateLimit ?? 60;
  const windowMs = (options.windowSeconds ?? 60) * 1000;
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');

  // Keys: issued now, kept only as hashes with their prefix. Faults that imitate servers keeping
  // the key in another form get that form, and only they.
  const store = new KeyStore();
  const legacyPlaintext = new Map<string, StoredKey>();
  const keepsPlaintext = (['likePatternKey', 'acceptTruncatedKey', 'acceptExtendedKey', 'ignoreLastCharacter', 'caseInsensitiveKey', 'ignoreEnvironmentPrefix'] as const).some(has);
  const issued: Record<string, string> = {};
  for (const org of kOrganisations) {
    for (const key of org.keys) {
      const value = issueKey(`${org.id}/${key.name}`, options.keySeed);
      issued[`${org.id}/${key.name}`] = value;
      const stored = store.add(org.id, key.name, value, key.revoked);
      if (keepsPlaintext) legacyPlaintext.set(value, stored);
    }
  }
  const orgOf = (id: string) => kOrganisations.find(org => org.id === id)!;

  const credentials: SandboxCredentials = {
    keys: {
      active: issued['org-acme/active'],
      second: issued['org-acme/second'],
      revoked: issued['org-acme/revoked'],
      otherOrg: issued['org-globex/active'],
    },
    customerIds: Object.keys(kOrganisations[0].customers),
    otherOrgCustomerId: Object.keys(kOrganisations[1].customers)[0],
  };

  const quotes = new Map<string, StoredQuote>();
  let quotesIssued = 0;
  const windows = new Map<string, { startedAt: number; count: number }>();
  const stats: SandboxStats = { received: 0, byStatus: {} };
  const connectionIds = new WeakMap<Socket, number>();
  /** Only the authCachedPerConnection fault reads this: the last key accepted on each connection. */
  const connectionKeys = new WeakMap<Socket, StoredKey>();
  let connections = 0;

  const canonicalPath = (path: string) => {
    let out = path.replace(/\/{2,}/g, '/');
    if (out.length > 1 && out.endsWith('/')) out = out.replace(/\/+$/, '');
    const lower = out.toLowerCase();
    const canonical = `${basePath}${kQuotePath}`;
    if (lower.startsWith(canonical.toLowerCase())) out = canonical + out.slice(canonical.length);
    return out;
  };

  // Trailing-slash, other-case and doubled-slash paths are served like the plain ones in the
  // alternative choices, and (without their guard) by the bypass faults.
  const servesVariants = alternative || has('trailingSlashBypass') || has('pathCaseBypass') || has('doubleSlashBypass');
  const app = new Hono<Env>({
    getPath: request => {
      const path = new URL(request.url).pathname;
      return servesVariants ? canonicalPath(path) : path;
    },
  });

  const extra = (body: object): object => (alternative ? { ...body, requestId: crypto.randomUUID() } : body);

  app.use('*', async (c, next) => {
    stats.received++;
    const socket = c.env?.incoming?.socket;
    if (socket && !connectionIds.has(socket)) connectionIds.set(socket, ++connections);
    await next();
    stats.byStatus[c.res.status] = (stats.byStatus[c.res.status] ?? 0) + 1;
  });

  // --- Authentication -------------------------------------------------------------------------

  /** The x-api-key value as the server reads it; undefined when the header is absent. */
  const presentedKey = (c: Context<Env>): string | undefined => {
    const incoming: IncomingMessage | undefined = c.env?.incoming;
    const raw = incoming?.rawHeaders ?? [];
    if (has('caseSensitiveHeaderName')) {
      const index = raw.findIndex((value, i) => i % 2 === 0 && value === 'x-api-key');
      return index >= 0 ? raw[index + 1].trim() : undefined;
    }
    if (has('lastRepeatedKeyWins')) {
      const lines = raw.flatMap((value, i) => (i % 2 === 0 && value.toLowerCase() === 'x-api-key' ? [raw[i + 1].trim()] : []));
      if (lines.length > 0) return lines[lines.length - 1];
    }
    if (has('firstRepeatedKeyWins')) {
      const index = raw.findIndex((value, i) => i % 2 === 0 && value.toLowerCase() === 'x-api-key');
      if (index >= 0) return raw[index + 1].trim();
    }
    // Contract, Authentication: header names are case-insensitive; repeated lines combine with ", ".
    const header = c.req.header('x-api-key');
    if (header !== undefined) return header;
    if (has('keyFromBearer')) {
      const match = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '');
      if (match) return match[1].trim();
    }
    if (has('keyFromQuery')) {
      const query = c.req.query('api_key') ?? c.req.query('apiKey') ?? c.req.query('x-api-key');
      if (query) return query;
    }
    if (has('keyFromCookie')) {
      const cookie = /(?:^|;\s*)(?:x-api-key|api_key|apiKey)=([^;]+)/.exec(c.req.header('cookie') ?? '');
      if (cookie) return decodeURIComponent(cookie[1]);
    }
    return undefined;
  };

  const replicaFor = (c: Context<Env>) => {
    const socket = c.env?.incoming?.socket;
    return socket ? (connectionIds.get(socket) ?? 0) % 2 : 0;
  };

  /** Finds the active key the presented value stands for: the documented lookup, or a fault's. */
  const authenticate = (c: Context<Env>, presented: string | undefined): StoredKey | undefined => {
    if (presented === undefined) {
      return has('acceptMissingKey') ? store.all().find(k => k.orgId === 'org-acme' && k.name === 'active') : undefined;
    }
    const active = (key: StoredKey | undefined) => (key && (!key.revoked || has('acceptRevokedKey')) ? key : undefined);
    const acme = store.all().find(k => k.orgId === 'org-acme' && k.name === 'active');
    const all = [...legacyPlaintext.entries()];

    if (has('innerWhitespaceStripped')) presented = presented.replace(/\s+/g, '');
    if (has('trailingWordIgnored')) presented = presented.split(/\s+/)[0];
    if (presented === '') return has('acceptEmptyKey') ? acme : undefined;
    if (has('sqlInjectableKey') && /'\s*or\s*'?1'?\s*=\s*'?1/i.test(presented)) return acme;
    if (has('crashOnLongKey') && presented.length > 1024) throw new Error('key buffer overflow');
    if (has('likePatternKey') && /[%_]/.test(presented) && presented.length <= 16) {
      const pattern = new RegExp(`^${presented.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.')}$`, 's');
      const hit = all.find(([plain, key]) => pattern.test(plain) && !key.revoked);
      if (hit) return hit[1];
    }
    if (has('acceptPortalPrefix')) {
      const hit = store.all().find(key => key.prefix === presented);
      if (hit) return active(hit);
    }
    if (has('matchPrefixOnly')) return active(store.all().find(key => key.prefix === presented.slice(0, 16)));
    if (has('acceptTruncatedKey') && presented.length > 16) {
      const hit = all.find(([plain]) => plain.startsWith(presented));
      if (hit) return active(hit[1]);
    }
    if (has('acceptExtendedKey')) {
      const hit = all.find(([plain]) => presented.startsWith(plain));
      if (hit) return active(hit[1]);
    }
    if (has('ignoreLastCharacter')) {
      const hit = all.find(([plain]) => sha256(plain.slice(0, 72)) === sha256(presented.slice(0, 72)));
      if (hit) return active(hit[1]);
    }
    if (has('caseInsensitiveKey')) {
      const hit = all.find(([plain]) => plain.toLowerCase() === presented.toLowerCase());
      if (hit) return active(hit[1]);
    }
    if (has('ignoreEnvironmentPrefix')) {
      const secret = (value: string) => value.replace(/^dzk_[a-z]+_/, '');
      const hit = all.find(([plain]) => secret(plain) === secret(presented));
      if (hit) return active(hit[1]);
    }

    const found = store.findByHash(presented);
    if (!found) return undefined;
    if (found.revoked && has('staleRevocationReplica') && replicaFor(c) === 1) return found;
    if (has('onlyFirstKeyPerOrg') && found.name !== orgOf(found.orgId).keys[0].name) return undefined;
    return active(found);
  };

  const reject = (c: Context<Env>, presented: string | undefined, found: StoredKey | undefined) => {
    const revoked = presented !== undefined && store.findByHash(presented)?.revoked === true && !found;
    if (alternative) {
      // RFC 6750 style: an error code only when a key was presented (it tells "no key" from "wrong key", not one wrong key from another).
      c.header('WWW-Authenticate', `ApiKey header="x-api-key"${presented ? ', error="invalid_key"' : ''}`);
      c.header('RateLimit-Limit', String(limit));
      c.header('RateLimit-Remaining', String(limit));
      c.header('RateLimit-Reset', String(Math.ceil(windowMs / 1000)));
    }
    if (has('echoKeyInHeader') && presented) c.header('X-Presented-Key', presented.slice(0, 24));
    if (has('plainText401')) return c.text('Unauthorized', 401);
    if (has('wrong401Body')) return c.json({ statusCode: 401, message: 'Unauthorized' }, 401);
    if (has('missingKeyForbidden') && presented === undefined) return c.json({ message: 'Forbidden' }, 403);
    if (has('revokedKeyForbidden') && revoked) return c.json({ message: 'Invalid API key' }, 403);
    if (has('revokedKeyExplained') && revoked) return c.json({ message: 'API key revoked' }, 401);
    if (has('revokedKeyPrettyPrinted') && revoked) return c.body(JSON.stringify(kInvalidKeyBody, null, 2), 401, { 'content-type': 'application/json' });
    if (has('revokedKeyCountedOnFetch') && revoked && c.req.method === 'GET') c.header('RateLimit-Limit', String(limit));
    if (has('echoKeyInBody') && presented) return c.json({ ...kInvalidKeyBody, presented: presented.slice(0, 24) }, 401);
    return c.json(extra(kInvalidKeyBody), 401);
  };

  const guarded = `${basePath}/v1/*`;
  app.use(guarded, async (c, next) => {
    const rawPath = new URL(c.req.url).pathname;
    if (has('trailingSlashBypass') && rawPath.length > 1 && rawPath.endsWith('/')) return next();
    if (has('pathCaseBypass') && rawPath !== canonicalPath(rawPath) && rawPath.toLowerCase() === canonicalPath(rawPath).toLowerCase()) return next();
    if (has('headBypass') && c.req.method === 'HEAD') return next();
    if (has('doubleSlashBypass') && rawPath.includes('//')) return next();
    if (has('validateBeforeAuth') && c.req.method === 'POST') {
      const invalid = await validationErrors(c);
      if (invalid) return invalid;
    }
    const presented = presentedKey(c);
    const socket = c.env?.incoming?.socket;
    const found = authenticate(c, presented) ?? (has('authCachedPerConnection') && socket ? connectionKeys.get(socket) : undefined);
    if (!found) return reject(c, presented, found);
    if (socket) connectionKeys.set(socket, found);
    c.set('key', found);
    await next();
  });

  // --- Rate limit: per organisation, fixed window, across all of its keys ------------------------

  app.use(guarded, async (c, next) => {
    const key = c.get('key');
    if (!key) return next();
    const now = Date.now();
    const windowKey = has('rateLimitPerKey') ? `${key.orgId}/${key.name}` : key.orgId;
    let window = windows.get(windowKey);
    const stuck = has('throttleNeverLifts') && window !== undefined && window.count > limit;
    if (!window || (now - window.startedAt >= windowMs && !stuck)) {
      window = { startedAt: now, count: 0 };
      windows.set(windowKey, window);
    }
    window.count++;
    const resetSeconds = Math.max(0, Math.ceil((window.startedAt + windowMs - now) / 1000));
    const remaining = has('remainingNeverFalls') ? limit : Math.max(0, limit - window.count);
    // resetCountsUp: a token bucket's time to refill what was spent, which grows with every request.
    const reportedReset = has('resetCountsUp') ? Math.ceil((window.count * windowMs) / limit / 1000) : resetSeconds;
    const sendState = (left: number) => {
      if (has('noRateLimitHeaders')) return;
      c.res.headers.set('RateLimit-Limit', String(limit));
      c.res.headers.set('RateLimit-Remaining', String(left));
      c.res.headers.set('RateLimit-Reset', String(reportedReset));
    };
    if (window.count > limit - (has('throttlesEarly') ? 1 : 0)) {
      c.res = c.json(extra({ message: 'Rate limit exceeded', limit: has('throttleBodyWrongLimit') ? limit + 1 : limit, retryAfterSeconds: resetSeconds }), 429);
      if (!has('throttleWithoutRetryAfter')) c.res.headers.set('Retry-After', String(resetSeconds));
      sendState(0);
      return c.res;
    }
    await next();
    sendState(remaining);
  });

  // --- Generate quotes ---------------------------------------------------------------------------

  const badRequest = (c: Context<Env>, messages: string[]) =>
    c.json(extra({ statusCode: 400, message: has('validationMessageString') ? messages.join('; ') : messages, error: 'Bad Request' }), 400);

  const readJson = async (c: Context<Env>): Promise<{ ok: true; value: unknown } | { ok: false }> => {
    const text = await c.req.text();
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch {
      return { ok: false };
    }
  };

  /** The alternative choices merge repeated customer ids before counting them (whether duplicates count is not stated). */
  const mergeRepeatedCustomers = (value: unknown): unknown => {
    const general = (value as { general?: { customerIds?: unknown } } | null)?.general;
    if (alternative && general && Array.isArray(general.customerIds)) general.customerIds = [...new Set(general.customerIds)];
    return value;
  };

  /** The 400 for an invalid body, or undefined when the body is valid. */
  const validationErrors = async (c: Context<Env>): Promise<Response | undefined> => {
    const parsed = await readJson(c);
    if (!parsed.ok) return has('nonJsonBody500') ? c.json({ statusCode: 500, message: 'Internal server error' }, 500) : badRequest(c, ['body must be valid JSON']);
    if (has('missingDestination500') && (parsed.value as { destination?: unknown } | null)?.destination === undefined)
      return c.json({ statusCode: 500, message: 'Internal server error' }, 500);
    const problems = checkSchema('QuoteRequest', mergeRepeatedCustomers(parsed.value)).filter(
      problem =>
        !(has('maxCustomersUnchecked') && /maxItems/.test(problem.schemaPath)) && !(has('emptyItemsAccepted') && /items\/minItems/.test(problem.schemaPath)),
    );
    if (problems.length > 0) {
      return badRequest(
        c,
        problems.map(problem => {
          const field = problem.where.replace(/^body( › )?/, '').replace(/ › /g, '.') || 'body';
          if (/minItems/.test(problem.schemaPath)) return `${field} should not be empty`;
          if (/maxItems/.test(problem.schemaPath)) return `${field} must contain no more than 50 elements`;
          if (/required/.test(problem.schemaPath)) return `${field === 'body' ? '' : `${field}.`}${/'([^']+)'/.exec(problem.message)?.[1]} should not be empty`;
          return `${field} ${problem.message}`;
        }),
      );
    }
    const body = parsed.value as { origin: LocationRequest; destination: LocationRequest };
    const unresolved = (['origin', 'destination'] as const).filter(side => !enrich(body[side]) && !(side === 'origin' && has('originPostcodeUnchecked')));
    if (unresolved.length > 0 && !has('unresolvablePostcodeAccepted')) return badRequest(c, unresolved.map(side => `${side}.postalCode ${body[side].postalCode} could not be resolved`));
    return undefined;
  };

  app.post(`${basePath}${kQuotePath}`, async c => {
    const invalid = await validationErrors(c);
    if (invalid) return invalid;
    const body = mergeRepeatedCustomers(await c.req.json()) as { general: { customerIds: string[] }; origin: LocationRequest; destination: LocationRequest; items: ItemRequest[]; filters?: Filters };
    // Without a key (only when a bypass fault skipped the guard) the handler trusts the body, as such handlers do.
    const key = c.get('key') as StoredKey | undefined;
    const org = key ? orgOf(key.orgId) : (kOrganisations.find(o => body.general.customerIds.every(id => id in o.customers)) ?? kOrganisations[0]);

    // Contract, Errors: one foreign customer rejects the whole request, no partial results.
    const outside = (id: string) => (has('unknownCustomerPriced') ? kOrganisations.some(other => other !== org && id in other.customers) : !(id in org.customers));
    if (!has('partialResultsForForeignCustomer') && body.general.customerIds.some(outside))
      return c.json(extra({ statusCode: 403, message: 'One or more customers do not belong to this organisation', error: 'Forbidden' }), 403);
    const priceFor = body.general.customerIds.filter(id => id in org.customers).slice(0, has('oneResultForManyCustomers') ? 1 : undefined);

    const blank = (location: LocationRequest) => ({ postalCode: location.postalCode, suburb: '', city: '', state: '', stateName: '', countryCode: location.countryCode ?? 'AU' });
    const places = [enrich(body.origin) ?? blank(body.origin), enrich(body.destination) ?? blank(body.destination)];
    const [origin, destination] = has('originDestinationSwapped') ? places.reverse() : places;
    const goods = goodsFor(body.items).map((line, index) => ({
      ...line,
      ...(has('goodsInMetres') ? { length: body.items[index].length, width: body.items[index].width, height: body.items[index].height } : {}),
      ...(has('goodsWeightInGrams') ? { weight: line.weight * 1000 } : {}),
      ...(has('chargeableWeightIgnoresQuantity') ? { chargeableWeight: line.chargeableWeight / line.quantity } : {}),
    }));
    const chargeable = goods.reduce((sum, line) => sum + line.chargeableWeight, 0);
    const international = origin.countryCode !== destination.countryCode;
    // Faults that misread the filters; matchesFilters is the documented reading.
    let filters = body.filters;
    if (has('serviceFilterIgnored')) filters = { ...filters, serviceIds: undefined };
    if (has('carrierFilterIgnored')) filters = { ...filters, carrierIds: undefined };
    if (has('onlyFirstFilterValue')) filters = Object.fromEntries(Object.entries(filters ?? {}).map(([name, values]) => [name, Array.isArray(values) ? values.slice(0, 1) : values]));
    const matchesNothing = has('emptyFilterMatchesNothing') && Object.values(filters ?? {}).some(values => Array.isArray(values) && values.length === 0);
    const results = priceFor.map(customerId => {
      const cards = cardsFor(org.customers[customerId], international).filter(card => !matchesNothing && matchesFilters(card, filters, has('filtersCombineWithOr') ? 'or' : 'and'));
      const priced = cards.map(card => {
        const quote = priceCard(card, chargeable);
        if (has('totalBelowAmount')) return { ...quote, totalAmount: Math.round((quote.totalAmount - quote.amount) * 100) / 100 };
        if (has('invalidQuoteAmounts')) return { ...quote, amount: quote.amount.toFixed(2), totalAmount: quote.totalAmount.toFixed(2) };
        return alternative ? { ...quote, currency: 'AUD' } : quote;
      });
      return {
        customerId,
        // The alternative choices number quotes per customer (ACME-Q000001): the contract gives only an example id.
        quoteId: alternative ? `${customerId}-Q${String(++quotesIssued).padStart(6, '0')}` : newQuoteId(),
        noQuoteMessage: priced.length === 0 ? 'No service matches this shipment and its filters' : '',
        quotes: priced,
      };
    });
    if (has('noMatchIsAnError') && results.every(result => result.quotes.length === 0))
      return c.json(extra({ statusCode: 404, message: 'No quotes found', error: 'Not Found' }), 404);
    const response = { origin, destination, goods, results };
    for (const result of results)
      quotes.set(result.quoteId, { orgId: org.id, createdAt: Date.now(), body: response, result });
    return c.json(alternative ? { ...response, currency: 'AUD' } : response, 200);
  });

  // --- Fetch a quote -----------------------------------------------------------------------------

  app.get(`${basePath}${kQuotePath}/:quoteId`, c => {
    const key = c.get('key');
    if (has('rejectActiveKeyOnFetch') && key) return reject(c, 'x', undefined);
    let stored = quotes.get(c.req.param('quoteId'));
    if (has('fetchReturnsOtherQuote') && key)
      stored = [...quotes.values()].filter(q => q.orgId === key.orgId && q.result.quoteId !== c.req.param('quoteId')).pop() ?? stored;
    if (!stored && has('unknownQuote500')) return c.json({ statusCode: 500, message: 'Internal server error' }, 500);
    const foreign = stored !== undefined && key !== undefined && stored.orgId !== key.orgId;
    if (foreign && has('foreignQuoteForbidden')) return c.json(extra({ statusCode: 403, message: 'Forbidden resource', error: 'Forbidden' }), 403);
    // Contract: another organisation's quote is answered exactly like an unknown one.
    if (!stored || (foreign && !has('foreignQuoteVisible'))) {
      if (foreign && has('foreignQuoteEtag')) c.header('ETag', `W/"${crypto.createHash('sha256').update(stored?.result.quoteId ?? '').digest('hex').slice(0, 16)}"`);
      // The alternative choices echo the id asked for and the time, as some frameworks' exception filters do.
      const echo = alternative ? { quoteId: c.req.param('quoteId'), timestamp: new Date().toISOString() } : {};
      return c.json(extra({ statusCode: 404, message: 'Quote not found', error: 'Not Found', ...echo }), 404);
    }
    const { origin, destination, goods } = stored.body;
    let result: object = stored.result;
    if (has('fetchedQuoteRepriced')) {
      const { quotes: priced } = stored.result as unknown as { quotes: { amount: number; totalAmount: number }[] };
      const up = (value: number) => Math.round(value * 105) / 100;
      result = { ...stored.result, quotes: priced.map(quote => ({ ...quote, rateId: crypto.randomUUID(), amount: up(quote.amount), totalAmount: up(quote.totalAmount) })) };
    }
    return c.json(extra({ origin, destination, goods, results: [result] }), 200);
  });

  app.notFound(c => c.json({ statusCode: 404, message: `Cannot ${c.req.method} ${new URL(c.req.url).pathname}`, error: 'Not Found' }, 404));
  app.onError((error, c) => {
    if (!(error instanceof Error && error.message === 'key buffer overflow')) console.error(error);
    return c.json({ statusCode: 500, message: 'Internal server error' }, 500);
  });

  return {
    app,
    credentials,
    faults: faults.list(),
    stats,
    /** Forgets quotes and rate-limit windows; keys stay. */
    reset() {
      quotes.clear();
      windows.clear();
      stats.received = 0;
      stats.byStatus = {};
    },
  };
}

export type Sandbox = ReturnType<typeof createSandbox>;
