import { expect, test } from '@playwright/test';

import type { Exchange } from '../../support/exchange';
import { headerNameDifferences, valuesShown } from '../../support/scenarios/errors';

/**
 * What foreignQuoteHidden counts as the quote shown to another organisation: its customer and rate
 * ids as whole values, never the id the caller asked for, and header names the unknown id's 404 lacks.
 */
const kRateId = '3f2c1a9e-6b1d-4c7e-9a55-0d2e8f4b7c11';

const answer = (headers: Record<string, string>) => ({ headers }) as unknown as Exchange;

test.describe('foreignQuoteHidden: values of the quote in the other organisation\'s 404', () => {
  test('accepts a customer id that only occurs inside an ISO timestamp (not a value shown)', () => {
    const body = JSON.stringify({ statusCode: 404, message: 'Quote not found', error: 'Not Found', timestamp: '2026-05-12T10:20:26.000Z' });

    expect(valuesShown(body, ['2026'], 'K541037RNBUQ')).toEqual([]);
  });

  test('accepts the requested quote id echoed back, though it contains the customer id', () => {
    const body = JSON.stringify({ statusCode: 404, message: 'Quote not found', error: 'Not Found', quoteId: 'ACME-Q000001', path: '/v1/org/quote/getQuote/ACME-Q000001' });

    expect(valuesShown(body, ['ACME', kRateId], 'ACME-Q000001')).toEqual([]);
  });

  test('finds the customer id and a rate id shown as whole values, in fields or in a sentence', () => {
    const body = JSON.stringify({ message: 'Quote not found for customer ACME.', rates: [kRateId] });

    expect(valuesShown(body, ['ACME', kRateId], 'K541037RNBUQ')).toEqual(['ACME', kRateId]);
  });

  test('does not take a longer id that starts with the customer id for it', () => {
    expect(valuesShown('{"customerId":"ACME-WEST"}', ['ACME'], 'K541037RNBUQ')).toEqual([]);
  });
});

test.describe('foreignQuoteHidden: header names of the two 404s', () => {
  const common = { 'content-type': 'application/json', 'ratelimit-limit': '60', 'ratelimit-remaining': '57', 'ratelimit-reset': '41' };

  test('an ETag on the foreign quote\'s 404 only is a difference', () => {
    const unknown = answer(common);
    const foreign = answer({ ...common, etag: 'W/"5d1f"' });

    expect(headerNameDifferences(unknown, foreign)).toEqual(['header(s) only on this run\'s quote: etag']);
  });

  test('accepts other values, and per-response headers (Date, Content-Length, connection handling) on one answer only', () => {
    const unknown = answer({ ...common, date: 'Tue, 12 May 2026 10:20:26 GMT', 'content-length': '71', connection: 'keep-alive', 'keep-alive': 'timeout=5' });
    const foreign = answer({ ...common, 'ratelimit-remaining': '59', 'ratelimit-reset': '60', 'transfer-encoding': 'chunked' });

    expect(headerNameDifferences(unknown, foreign)).toEqual([]);
  });

  test('RateLimit headers missing from one of two authenticated answers are a difference', () => {
    const unknown = answer(common);
    const foreign = answer({ 'content-type': 'application/json' });

    expect(headerNameDifferences(unknown, foreign)).toEqual(['header(s) only on the unknown id: ratelimit-limit, ratelimit-remaining, ratelimit-reset']);
  });
});
