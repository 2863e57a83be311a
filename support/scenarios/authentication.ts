import { keyPrefix } from '../redact';
import type { Exchange } from '../exchange';
import type { Operation } from '../openapi';
import { received, type Violation } from '../checks';
import type { Scenario } from '../suite';
import { createdQuoteId, creatingOperation } from '../requests';
import { bodilessFirst, expectServed, opName, rejectionScenario } from './helpers';

const kSection = 'Authentication';

/** The revoked key goes on two fresh connections to one operation, the cheapest. */
function freshConnections(op: Operation, ops: Operation[]): boolean {
  return op === bodilessFirst(ops)[0];
}

/**
 * The five basic authentication clauses, for every operation the document guards with x-api-key:
 * no key, an empty key, the portal prefix and the revoked key are answered 401; the active key is served.
 */
export function authenticationScenarios(ops: Operation[]): Scenario[] {
  const scenarios: Scenario[] = [];
  for (const op of ops) {
    const name = opName(op);
    scenarios.push(
      rejectionScenario({
        id: `auth.missing-key.${op.operationId}`,
        section: kSection,
        title: `${name}: a request without an x-api-key header is answered 401 with the documented body`,
        tags: ['@auth'],
        check: 'missingKeyRejected',
        send: async ctx => [await ctx.send(ctx.probe(op, 'no key', { role: 'no key', value: undefined }))],
      }),
      rejectionScenario({
        id: `auth.empty-key.${op.operationId}`,
        section: kSection,
        title: `${name}: an empty x-api-key is answered 401 with the documented body`,
        tags: ['@auth'],
        check: 'emptyKeyRejected',
        send: async ctx => [await ctx.send(ctx.probe(op, 'empty key', { role: 'empty key', value: '' }))],
      }),
      rejectionScenario({
        id: `auth.prefix-key.${op.operationId}`,
        section: kSection,
        title: `${name}: the 16-character portal prefix of the active key is answered 401 — a prefix is not a key`,
        tags: ['@auth'],
        check: 'prefixKeyRejected',
        hint: 'The portal shows only the prefix; a server must never accept it in place of the full key.',
        send: async ctx => [await ctx.send(ctx.probe(op, 'portal prefix of the active key', { role: `portal prefix ${keyPrefix(ctx.target.keys.active)}`, value: keyPrefix(ctx.target.keys.active) }))],
      }),
      rejectionScenario({
        id: `auth.revoked-key.${op.operationId}`,
        section: kSection,
        title: freshConnections(op, ops)
          ? `${name}: the revoked key is answered 401 with the documented body, on each of two fresh connections — every replica has revoked it`
          : `${name}: the revoked key is answered 401 with the documented body`,
        tags: ['@auth'],
        check: 'revokedKeyRejected',
        hint: 'Check that DYSPACH_REVOKED_API_KEY was revoked in the portal before this run started. A revoked key accepted on some connections only points at a replica or cache that has not seen the revocation.',
        async send(ctx) {
          const revoked = { role: 'revoked key', value: ctx.target.keys.revoked };
          if (!freshConnections(op, ops)) return [await ctx.send(ctx.probe(op, 'revoked key', revoked))];
          // One replica's cache proves nothing about another's: two new connections, one after the other.
          const out: Exchange[] = [];
          for (const n of [1, 2]) out.push(await ctx.send(ctx.probe(op, `revoked key, fresh connection ${n}`, revoked, { transport: 'raw' })));
          return out;
        },
      }),
    );

    const creates = creatingOperation().operationId === op.operationId;
    scenarios.push({
      id: `auth.active-key.${op.operationId}`,
      section: kSection,
      title: creates
        ? `${name}: the active key is served 2xx with a body valid against its schema`
        : `${name}: the active key is served 2xx with a body valid against its schema, and it is the quote this run created`,
      tags: ['@auth', '@schema'],
      checks: ['activeKeyAccepted'],
      async run(ctx) {
        const created = ctx.created;
        if (created && created.operation === op.operationId) {
          await ctx.adopt(created);
          await ctx.verify('activeKeyAccepted', expectServed(created));
          return;
        }
        const ex = await ctx.send(ctx.probe(op, 'active key', { role: 'active key', value: ctx.target.keys.active }));
        const problems: Violation[] = expectServed(ex);
        const wanted = createdQuoteId(created);
        if (problems.length === 0 && op.pathParameters.length > 0) {
          if (!wanted) {
            problems.push({ summary: 'no quote could be created with the active key, so there was none to fetch', received: created ? received(created) : 'no creation request', exchange: created });
          } else {
            const results = (ex.json as { results?: { quoteId?: unknown }[] } | undefined)?.results;
            const got = Array.isArray(results) ? results.map(result => result?.quoteId) : [];
            if (got.length !== 1 || got[0] !== wanted)
              problems.push({ summary: 'the fetched quote is not the one this run created', expected: `results: one entry with quoteId ${wanted}`, received: `quoteId(s) ${JSON.stringify(got)}`, exchange: ex });
          }
        }
        await ctx.verify('activeKeyAccepted', problems);
      },
    });
  }
  return scenarios;
}
