import type { CheckId } from '../support/checks';

/**
 * Named faults of the local sandbox. Each breaks one clause of the contract the way a real server,
 * gateway or framework has been seen to break it. `caughtBy` lists every check that must fail when
 * the fault is on — the first is the check that owns the clause; the suite's own tests (tests/self)
 * prove that exactly these checks fail, and that none fails without a fault.
 */
export interface FaultSpec {
  imitates: string;
  caughtBy: [CheckId, ...CheckId[]];
  /** Runs the opt-in throttling scenario too (it needs a small window). */
  throttling?: boolean;
}

export const kFaults = {
  // Authentication basics
  acceptMissingKey: { imitates: 'a guard that lets requests without the header through as anonymous', caughtBy: ['missingKeyRejected', 'authenticationBeforeValidation', 'noGuardBypass', 'keyOnlyFromHeader'] },
  missingKeyForbidden: { imitates: 'an API gateway that answers 403 Forbidden when the key header is absent', caughtBy: ['missingKeyRejected', 'rejectionsIndistinguishable', 'authenticationBeforeValidation', 'bodyMatchesSchema', 'keyOnlyFromHeader'] },
  acceptEmptyKey: { imitates: 'a lookup that treats an empty key as the default organisation', caughtBy: ['emptyKeyRejected', 'hostileValueRejected'] },
  acceptPortalPrefix: { imitates: 'a lookup by "prefix OR hash", so the 16-character portal prefix passes', caughtBy: ['prefixKeyRejected'] },
  acceptRevokedKey: { imitates: 'revocation recorded but never consulted', caughtBy: ['revokedKeyRejected'] },
  rejectActiveKeyOnFetch: { imitates: 'the fetch route guarded by a different (stricter) key check than the create route', caughtBy: ['activeKeyAccepted', 'everyActiveKeyAccepted', 'headerNameCaseInsensitive', 'fetchedQuoteMatches', 'rateLimitRemainingFalls', 'unknownQuoteNotFound'] },
  fetchReturnsOtherQuote: { imitates: 'the fetch handler reading the wrong id: it answers with another quote of the organisation, even for an unknown id', caughtBy: ['activeKeyAccepted', 'fetchedQuoteMatches', 'unknownQuoteNotFound'] },
  wrong401Body: { imitates: 'a framework default 401 body ({"statusCode":401,"message":"Unauthorized"})', caughtBy: ['bodyMatchesSchema'] },
  plainText401: { imitates: 'a proxy answering 401 with a plain-text body', caughtBy: ['jsonContentType'] },
  invalidQuoteAmounts: { imitates: 'prices serialised as strings ("10.00") by a decimal library', caughtBy: ['bodyMatchesSchema', 'totalsConsistent'] },

  // Near misses of a real key
  acceptTruncatedKey: { imitates: 'a LIKE \'presented%\' lookup that accepts any long-enough start of a key', caughtBy: ['nearMissRejected'] },
  acceptExtendedKey: { imitates: 'a comparison that stops at the stored key\'s length, so extra characters pass', caughtBy: ['nearMissRejected', 'duplicateKeyHeaderRejected'] },
  ignoreLastCharacter: { imitates: 'a hash over the first 72 bytes only (bcrypt-style truncation)', caughtBy: ['nearMissRejected', 'duplicateKeyHeaderRejected'] },
  matchPrefixOnly: { imitates: 'a lookup by the 16-character prefix with no check of the rest', caughtBy: ['nearMissRejected', 'prefixKeyRejected', 'duplicateKeyHeaderRejected'] },
  caseInsensitiveKey: { imitates: 'a case-insensitive key column (keys compared after lower-casing)', caughtBy: ['nearMissRejected'] },
  ignoreEnvironmentPrefix: { imitates: 'a check of the secret part only, so a dzk_test_ key works on live', caughtBy: ['nearMissRejected'] },
  staleRevocationReplica: { imitates: 'one replica of two with a stale key cache, still serving a revoked key on new connections', caughtBy: ['revokedKeyRejected'] },

  // The key anywhere but x-api-key
  keyFromBearer: { imitates: 'a middleware that also reads Authorization: Bearer', caughtBy: ['keyOnlyFromHeader'] },
  keyFromQuery: { imitates: 'a middleware that also reads ?api_key= from the URL', caughtBy: ['keyOnlyFromHeader'] },
  keyFromCookie: { imitates: 'a middleware that also reads the key from a cookie', caughtBy: ['keyOnlyFromHeader'] },

  // Hostile values
  likePatternKey: { imitates: 'the key used as a SQL LIKE pattern, so % and _ match anything', caughtBy: ['hostileValueRejected'] },
  sqlInjectableKey: { imitates: 'a key lookup built by string concatenation (\' OR \'1\'=\'1 logs in)', caughtBy: ['hostileValueRejected'] },
  crashOnLongKey: { imitates: 'a fixed-size buffer for the key: a long value crashes the handler with 500', caughtBy: ['hostileValueRejected'] },

  // Header name case, duplicates
  caseSensitiveHeaderName: { imitates: 'a raw-header lookup that only finds the exact name "x-api-key"', caughtBy: ['headerNameCaseInsensitive', 'duplicateKeyHeaderRejected'] },
  lastRepeatedKeyWins: { imitates: 'a proxy that keeps the last of two x-api-key lines', caughtBy: ['duplicateKeyHeaderRejected'] },
  firstRepeatedKeyWins: { imitates: 'a lookup that keeps the first of two x-api-key lines (as Go\'s Header.Get does)', caughtBy: ['duplicateKeyHeaderRejected'] },

  // One answer for every rejection
  revokedKeyExplained: { imitates: 'a helpful 401 that says "API key revoked" for revoked keys', caughtBy: ['rejectionsIndistinguishable', 'bodyMatchesSchema'] },
  revokedKeyPrettyPrinted: { imitates: 'a revoked key\'s 401 rendered by another code path: the same JSON, formatted differently', caughtBy: ['rejectionsIndistinguishable'] },
  revokedKeyCountedOnFetch: { imitates: 'a revoked key still matched to its organisation on one route, whose 401 then carries that organisation\'s RateLimit header', caughtBy: ['rejectionsIndistinguishable'] },
  revokedKeyForbidden: { imitates: 'a 403 for revoked keys and a 401 for unknown ones', caughtBy: ['revokedKeyRejected', 'rejectionsIndistinguishable', 'bodyMatchesSchema'] },
  echoKeyInBody: { imitates: 'a 401 that quotes the presented key back in its body', caughtBy: ['rejectionEchoesNothing', 'rejectionsIndistinguishable'] },
  echoKeyInHeader: { imitates: 'a debug header on 401 carrying the presented key', caughtBy: ['rejectionEchoesNothing', 'rejectionsIndistinguishable'] },

  // Order and coverage of the guard
  validateBeforeAuth: { imitates: 'body validation (a pipe or schema plugin) running before the key guard (and before the rate limiter, so its 400s carry no RateLimit headers)', caughtBy: ['authenticationBeforeValidation', 'rateLimitHeadersPresent'] },
  trailingSlashBypass: { imitates: 'a guard registered for exact paths while the router also serves a trailing slash', caughtBy: ['noGuardBypass'] },
  pathCaseBypass: { imitates: 'a case-insensitive router behind a case-sensitive guard', caughtBy: ['noGuardBypass'] },
  headBypass: { imitates: 'a guard bound to GET only, while the framework answers HEAD from the GET handler', caughtBy: ['noGuardBypass'] },
  onlyFirstKeyPerOrg: { imitates: 'one key per organisation: later keys are stored but never matched', caughtBy: ['everyActiveKeyAccepted'] },
  innerWhitespaceStripped: { imitates: 'a key "normalised" by removing whitespace before the lookup', caughtBy: ['nearMissRejected'] },
  trailingWordIgnored: { imitates: 'a parser that keeps the first whitespace-separated token of the header', caughtBy: ['nearMissRejected'] },
  doubleSlashBypass: { imitates: 'a router that collapses // behind a guard matched on the raw path', caughtBy: ['noGuardBypass'] },
  authCachedPerConnection: { imitates: 'a keep-alive connection trusted once a key was accepted on it', caughtBy: ['authenticationPerRequest'] },

  // Errors
  maxCustomersUnchecked: { imitates: 'customerIds validated item by item but not for length, so 51 ids are priced', caughtBy: ['validationErrorDocumented'] },
  emptyItemsAccepted: { imitates: 'items checked to be an array but not to be non-empty, so nothing is priced with 200', caughtBy: ['validationErrorDocumented'] },
  unresolvablePostcodeAccepted: { imitates: 'a postcode lookup whose miss falls back to blank place names instead of a 400', caughtBy: ['validationErrorDocumented'] },
  nonJsonBody500: { imitates: 'a JSON syntax error from the body parser escaping as 500 Internal Server Error', caughtBy: ['validationErrorDocumented'] },
  originPostcodeUnchecked: { imitates: 'only the destination postcode looked up: an unresolvable origin falls back to blank place names with 200', caughtBy: ['validationErrorDocumented'] },
  missingDestination500: { imitates: 'destination not declared required, so the handler reads a field of undefined and answers 500', caughtBy: ['validationErrorDocumented'] },
  validationMessageString: { imitates: 'validation messages joined into one string instead of the documented list', caughtBy: ['bodyMatchesSchema'] },
  partialResultsForForeignCustomer: { imitates: 'customerIds silently narrowed to the caller\'s organisation: foreign ids dropped, the rest priced', caughtBy: ['foreignCustomerForbidden'] },
  unknownCustomerPriced: { imitates: 'an ownership check that refuses other organisations\' customers only: an id of no organisation is dropped and the rest priced', caughtBy: ['foreignCustomerForbidden'] },
  foreignQuoteVisible: { imitates: 'the fetch handler looking a quote up by id alone, whatever organisation asks', caughtBy: ['foreignQuoteHidden'] },
  foreignQuoteForbidden: { imitates: 'an ownership check answering 403, which confirms that another organisation\'s quote id exists', caughtBy: ['foreignQuoteHidden'] },
  foreignQuoteEtag: { imitates: 'a 404 for another organisation\'s quote built after loading it, with an ETag header that an unknown id\'s 404 lacks', caughtBy: ['foreignQuoteHidden'] },
  unknownQuote500: { imitates: 'an unknown quote id dereferenced as null: 500 instead of 404', caughtBy: ['unknownQuoteNotFound'] },

  // Generate and fetch quotes
  oneResultForManyCustomers: { imitates: 'only the first customerIds entry priced', caughtBy: ['resultsPerCustomer'] },
  goodsInMetres: { imitates: 'the goods echo copying the request\'s metres instead of converting them to centimetres', caughtBy: ['goodsEchoInCentimetres'] },
  goodsWeightInGrams: { imitates: 'the goods echo converting every unit, the weight too: kilograms echoed as grams', caughtBy: ['goodsEchoInCentimetres'] },
  originDestinationSwapped: { imitates: 'origin and destination enriched in the wrong order, so the answer swaps them', caughtBy: ['locationsMatchRequest'] },
  chargeableWeightIgnoresQuantity: { imitates: 'the chargeable weight of one piece reported for the whole goods line', caughtBy: ['chargeableWeightCoversActual'] },
  totalBelowAmount: { imitates: 'totalAmount summing surcharges and GST but leaving out the freight amount', caughtBy: ['totalsConsistent'] },
  fetchedQuoteRepriced: { imitates: 'a stored quote priced again on fetch, with new rate ids and today\'s prices', caughtBy: ['fetchedQuoteMatches'] },

  // Filters
  serviceFilterIgnored: { imitates: 'the serviceIds filter read under another name and so never applied', caughtBy: ['filterByService'] },
  carrierFilterIgnored: { imitates: 'the carrierIds filter read under another name and so never applied', caughtBy: ['emptyFilterResultIsSuccess'] },
  onlyFirstFilterValue: { imitates: 'each filter array read as a single value: only its first entry is applied', caughtBy: ['filterByService'] },
  emptyFilterMatchesNothing: { imitates: 'an empty filter array treated as "none of these" instead of "no restriction"', caughtBy: ['filtersCombineWithAnd'] },
  filtersCombineWithOr: { imitates: 'filter dimensions combined with OR: a card matching any one of them is priced', caughtBy: ['filtersCombineWithAnd'] },
  noMatchIsAnError: { imitates: 'an empty filtered result turned into 404 "No quotes found"', caughtBy: ['emptyFilterResultIsSuccess'] },

  // Rate limits
  noRateLimitHeaders: { imitates: 'a rate limiter that counts requests but sends no RateLimit-* headers', caughtBy: ['rateLimitHeadersPresent', 'rateLimitRemainingFalls', 'rateLimitSharedAcrossKeys'] },
  remainingNeverFalls: { imitates: 'RateLimit-Remaining sent as the configured limit instead of what is left', caughtBy: ['rateLimitRemainingFalls', 'rateLimitSharedAcrossKeys'] },
  rateLimitPerKey: { imitates: 'the window keyed by API key instead of organisation, so each key gets a window of its own', caughtBy: ['rateLimitSharedAcrossKeys'] },
  resetCountsUp: { imitates: 'RateLimit-Reset sent as a token bucket\'s time to refill, which grows with every request instead of counting down', caughtBy: ['rateLimitRemainingFalls'] },
  throttlesEarly: { imitates: 'a limiter that throttles at count = limit while RateLimit-Remaining still says 1 (off by one)', caughtBy: ['throttledResponseDocumented'], throttling: true },
  throttleWithoutRetryAfter: { imitates: 'a 429 sent without the Retry-After header', caughtBy: ['throttledResponseDocumented', 'rateLimitHeadersPresent'], throttling: true },
  throttleBodyWrongLimit: { imitates: 'a 429 body reporting the count that tripped the limit (limit + 1) as the limit', caughtBy: ['throttledResponseDocumented'], throttling: true },
  throttleNeverLifts: { imitates: 'a window that is not renewed once exceeded, so a throttled organisation stays throttled', caughtBy: ['throttleLiftsAfterRetryAfter'], throttling: true },
} as const satisfies Record<string, FaultSpec>;

export type FaultName = keyof typeof kFaults;

export function isFaultName(name: string): name is FaultName {
  return Object.prototype.hasOwnProperty.call(kFaults, name);
}

export class FaultSet {
  private readonly names: Set<FaultName>;

  constructor(names: Iterable<string> = []) {
    const list = [...names];
    const unknown = list.filter(name => !isFaultName(name));
    if (unknown.length > 0) throw new Error(`unknown sandbox fault${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}. Known faults: ${Object.keys(kFaults).join(', ')}`);
    this.names = new Set(list as FaultName[]);
  }

  has(name: FaultName): boolean {
    return this.names.has(name);
  }

  list(): FaultName[] {
    return [...this.names];
  }
}
