import crypto from 'node:crypto';

import { expect, test } from '@playwright/test';
import type { OpenAPIV3_1 } from 'openapi-types';

import {
  findOperation,
  keyedOperations,
  linkedParameters,
  listOperations,
  loadDocument,
  readPointer,
} from '../../support/openapi';
import { clearSecrets, redact, redactDeep, registerSecret } from '../../support/redact';
import { checkSchema, formatSchemaProblems, validatorFor, type SchemaProblem } from '../../support/schemas';

/**
 * Unit tests of the support code every check relies on: the OpenAPI document and what is derived
 * from it, the schema validation and its wording, and the redaction of keys. No server is involved.
 */

// Key-shaped values are made at run time, in the documented shape: no key-like string sits in the source.
const kKey = `dzk_live_${crypto.randomBytes(48).toString('base64url')}`;
const kUnknownKey = `dzk_live_${crypto.randomBytes(24).toString('base64url')}`;

/** Bodies as the documentation's examples give them (dyspach-api.md), one per response schema. */
const kDocumentedBodies: Record<string, unknown> = {
  QuoteResponse: {
    origin: {
      postalCode: '2000',
      suburb: 'BARANGAROO',
      city: 'Sydney',
      state: 'NSW',
      stateName: 'New South Wales',
      countryCode: 'AU',
    },
    destination: {
      postalCode: '3000',
      suburb: 'MELBOURNE',
      city: 'Melbourne',
      state: 'VIC',
      stateName: 'Victoria',
      countryCode: 'AU',
    },
    goods: [
      { type: 'Carton/Box', quantity: 2, length: 30, width: 30, height: 30, weight: 10, chargeableWeight: 20 },
    ],
    results: [
      {
        customerId: 'ACME',
        quoteId: 'K541037RNBUQ',
        noQuoteMessage: '',
        quotes: [
          {
            rateId: '0b6f2a4e-6d0c-4a5e-9c1e-2f1d7a8b9c0d',
            serviceName: 'Road Express',
            serviceId: 'TNT-RF',
            rateCardName: 'TNT Road Express 2026',
            rateCardId: 'RC-TNT-RF-2026',
            isSpotRate: false,
            spotRateMessage: '',
            amount: 10,
            totalAmount: 19.8,
            gstAmount: 1.8,
            deliveryTime: '1 - 5 business day(s)',
            minTransitTime: 1,
            maxTransitTime: 5,
            transitTimeUnit: 'D',
            surcharges: [{ name: 'Fuel levy', description: 'Fuel levy', key: 'FUEL', amount: 8 }],
          },
        ],
      },
    ],
  },
  ValidationError: { statusCode: 400, message: ['general.customerIds should not be empty'], error: 'Bad Request' },
  InvalidApiKey: { message: 'Invalid API key' },
  ForeignCustomer: {
    statusCode: 403,
    message: 'One or more customers do not belong to this organisation',
    error: 'Forbidden',
  },
  QuoteNotFound: { statusCode: 404, message: 'Quote not found', error: 'Not Found' },
  RateLimitExceeded: { message: 'Rate limit exceeded', limit: 60, retryAfterSeconds: 23 },
};
kDocumentedBodies.FetchedQuoteResponse = kDocumentedBodies.QuoteResponse;

/** The schema names the document uses for response bodies, over every operation and status. */
function responseSchemaNames(): string[] {
  return [...new Set(listOperations().flatMap(op => [...op.responseSchemas.values()]))].sort();
}

/** A copy of `value` with an undocumented field added to every object in it. */
function withExtraFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withExtraFields);
  if (typeof value !== 'object' || value === null) return value;
  const copy = Object.entries(value).map(([name, child]) => [name, withExtraFields(child)]);
  return { ...Object.fromEntries(copy), undocumentedField: { added: 'by a later API version' } };
}

function editedDocument(edit: (doc: OpenAPIV3_1.Document) => void): OpenAPIV3_1.Document {
  const doc = structuredClone(loadDocument());
  edit(doc);
  return doc;
}

const createQuoteOf = (doc: OpenAPIV3_1.Document) => doc.paths!['/v1/org/quote/getQuote']!.post!;
const fetchQuoteOf = (doc: OpenAPIV3_1.Document) => doc.paths!['/v1/org/quote/getQuote/{quoteId}']!.get!;
const keySchemeOf = (doc: OpenAPIV3_1.Document) =>
  doc.components!.securitySchemes!.apiKey as OpenAPIV3_1.ApiKeySecurityScheme;

/** The documented 200 body with one quote's amount sent as a string, as a decimal library might. */
function quoteWithStringAmount(): unknown {
  const body = structuredClone(kDocumentedBodies.QuoteResponse) as { results: { quotes: Record<string, unknown>[] }[] };
  body.results[0].quotes[0].amount = '10.00';
  return body;
}

test.describe('The OpenAPI document', { tag: '@schema' }, () => {
  test('is a valid OpenAPI 3.1 description', async () => {
    // ESM only: loaded with import(), which this CommonJS project keeps as a real dynamic import.
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const validator = new Validator();
    const broken = editedDocument(doc => delete (doc.info as Partial<OpenAPIV3_1.InfoObject>).title);

    const result = await validator.validate(structuredClone(loadDocument()) as Record<string, unknown>);
    const brokenResult = await new Validator().validate(broken as unknown as Record<string, unknown>);

    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(brokenResult.valid, 'the validator must reject a document without info.title').toBe(false);
  });

  test('every component schema compiles with ajv in strict mode', () => {
    const names = Object.keys(loadDocument().components?.schemas ?? {});

    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect.soft(() => validatorFor(name), name).not.toThrow();
  });

  test('the example request is valid against its request schema', () => {
    const create = findOperation('createQuote');

    const problems = checkSchema('QuoteRequest', create.exampleBody);

    expect(create.exampleBody).toBeDefined();
    expect(problems, formatSchemaProblems(problems).join('\n')).toEqual([]);
  });

  test('the documented example bodies are valid, and stay valid with undocumented extra fields at every level', () => {
    const names = responseSchemaNames();
    const schemas = JSON.stringify(loadDocument().components?.schemas);

    expect(names).toEqual(Object.keys(kDocumentedBodies).sort());
    for (const name of names) {
      const plain = checkSchema(name, kDocumentedBodies[name]);
      const extended = checkSchema(name, withExtraFields(kDocumentedBodies[name]));
      expect.soft(plain, `${name}:\n${formatSchemaProblems(plain).join('\n')}`).toEqual([]);
      expect.soft(extended, `${name} with extra fields:\n${formatSchemaProblems(extended).join('\n')}`).toEqual([]);
    }
    expect(schemas, 'a schema that forbids extra fields breaks on every addition to the API').not.toMatch(
      /"(additionalProperties|unevaluatedProperties)":false/,
    );
  });

  test('keyedOperations() finds the operations guarded by the x-api-key header from the document\'s security', () => {
    const ids = (doc?: OpenAPIV3_1.Document) => keyedOperations(doc).map(op => op.operationId);

    const asPublished = ids();
    const fetchOpenToAll = ids(editedDocument(doc => (fetchQuoteOf(doc).security = [])));
    const createAnonymousAllowed = ids(editedDocument(doc => (createQuoteOf(doc).security = [{}])));
    const keyInQuery = ids(editedDocument(doc => (keySchemeOf(doc).in = 'query')));
    const headerNameCase = ids(editedDocument(doc => (keySchemeOf(doc).name = 'X-API-Key')));
    const noSecurity = ids(editedDocument(doc => delete doc.security));

    expect(asPublished).toEqual(['createQuote', 'fetchQuote']);
    expect(fetchOpenToAll).toEqual(['createQuote']);
    expect(createAnonymousAllowed).toEqual(['fetchQuote']);
    expect(keyInQuery).toEqual([]);
    expect(headerNameCase).toEqual(['createQuote', 'fetchQuote']);
    expect(noSecurity).toEqual([]);
  });

  test('linkedParameters() follows the createQuote → fetchQuote link to the quote id in the 200 body', () => {
    const withoutLinks = editedDocument(doc => {
      delete (createQuoteOf(doc).responses!['200'] as OpenAPIV3_1.ResponseObject).links;
    });

    const links = linkedParameters();
    const unlinked = linkedParameters(withoutLinks);

    const link = links.get('fetchQuote');
    expect([...links.keys()]).toEqual(['fetchQuote']);
    expect(link).toEqual({ from: 'createQuote', status: '200', pointers: { quoteId: '/results/0/quoteId' } });
    expect(readPointer(kDocumentedBodies.QuoteResponse, link!.pointers.quoteId)).toBe('K541037RNBUQ');
    expect(unlinked.size).toBe(0);
  });
});

test.describe('Schema problems are worded for a reader', { tag: '@schema' }, () => {
  test('a wrong constant names the field, the documented value and the schema keyword', () => {
    const problems = checkSchema('InvalidApiKey', { statusCode: 401, message: 'Unauthorized' });

    expect(formatSchemaProblems(problems)).toEqual([
      'body › message must be "Invalid API key" (#/components/schemas/InvalidApiKey/properties/message/const)',
    ]);
  });

  test('a nested type error reads as a path through the body, array indexes included', () => {
    const problems = checkSchema('QuoteResponse', quoteWithStringAmount());

    expect(problems.map(problem => `${problem.where} ${problem.message}`)).toEqual([
      'body › results[0] › quotes[0] › amount must be number',
    ]);
  });

  test('a problem inside a referenced schema points at the keyword in that schema', () => {
    const withoutGoods = { ...(kDocumentedBodies.QuoteResponse as object), goods: undefined };

    const nested = checkSchema('QuoteResponse', quoteWithStringAmount());
    const inherited = checkSchema('FetchedQuoteResponse', withoutGoods);

    expect(nested.map(problem => problem.schemaPath)).toEqual(['#/components/schemas/Quote/properties/amount/type']);
    expect(inherited.map(problem => problem.schemaPath)).toEqual(['#/components/schemas/QuoteResponse/required']);
  });

  test('a missing field is named, and a long list is cut with a count of the rest', () => {
    const body = { message: 'Rate limit exceeded', limit: 60 };
    const many: SchemaProblem[] = Array.from({ length: 25 }, (_, i) => ({
      where: `body › goods[${i}]`,
      message: 'must be object',
      schemaPath: '#/components/schemas/Goods/type',
    }));

    const missing = formatSchemaProblems(checkSchema('RateLimitExceeded', body));
    const cut = formatSchemaProblems(many, 20);

    expect(missing).toEqual([
      "body must have required property 'retryAfterSeconds' (#/components/schemas/RateLimitExceeded/required)",
    ]);
    expect(cut).toHaveLength(21);
    expect(cut[19]).toBe('body › goods[19] must be object (#/components/schemas/Goods/type)');
    expect(cut[20]).toBe('… and 5 more');
  });
});

test.describe('Redaction of keys', { tag: '@auth' }, () => {
  test.beforeEach(() => clearSecrets());
  test.afterEach(() => clearSecrets());

  test('a registered key is replaced by its label, plain, base64 and base64url encoded', () => {
    registerSecret(kKey, 'active key');
    const text = [
      `x-api-key: ${kKey}`,
      `Basic ${Buffer.from(kKey).toString('base64')}`,
      `token=${Buffer.from(kKey).toString('base64url')}`,
    ].join('\n');

    const redacted = redact(text);

    expect(redacted.split('\n')).toEqual(['x-api-key: ‹active key›', 'Basic ‹active key›', 'token=‹active key›']);
  });

  test('a registered secret is replaced in its URL-encoded and JSON-escaped forms', () => {
    // Keys are base64url, which neither encoding changes; this value shows that both forms are covered.
    const secret = 'pasted "secret" with\\slashes/+ and spaces';
    registerSecret(secret, 'revoked key');
    const text = [`?api_key=${encodeURIComponent(secret)}`, `{"key":${JSON.stringify(secret)}}`].join('\n');

    const redacted = redact(text);

    expect(redacted.split('\n')).toEqual(['?api_key=‹revoked key›', '{"key":"‹revoked key›"}']);
    expect(redactDeep({ nested: [secret] })).toEqual({ nested: ['‹revoked key›'] });
  });

  test('a dzk_-shaped value beyond its 16-character prefix is cut, registered or not; the prefix alone stays', () => {
    registerSecret(kKey, 'active key');
    const text = [
      `X-Presented-Key: ${kKey.slice(0, 24)}`,
      `unknown ${kUnknownKey}`,
      'other environment dzk_test_0123456789abcdef',
      'upper case DZK_LIVE_ABCDEFGHIJKLMNOP',
      'portal prefix dzk_live_7fe18dc',
    ].join('\n');

    const redacted = redact(text);

    expect(redacted.split('\n')).toEqual([
      `X-Presented-Key: ${kKey.slice(0, 16)}…‹redacted›`,
      `unknown ${kUnknownKey.slice(0, 16)}…‹redacted›`,
      'other environment dzk_test_0123456…‹redacted›',
      'upper case DZK_LIVE_ABCDEFG…‹redacted›',
      'portal prefix dzk_live_7fe18dc',
    ]);
  });

  test('values no longer than the prefix are not registered, so short or empty values stay readable', () => {
    registerSecret('', 'empty key');
    registerSecret('dzk_live_7fe18dc', 'portal prefix');
    registerSecret(" ' OR '1'='1  ", 'hostile value');

    const redacted = redact("key '' and dzk_live_7fe18dc and ' OR '1'='1");

    expect(redacted).toBe("key '' and dzk_live_7fe18dc and ' OR '1'='1");
  });
});
