import type { Exchange } from './exchange';
import { linkedParameters, listOperations, readPointer, writePointer, type Operation } from './openapi';

/** What the suite knows about the target for this run: who it is, and what the first request created. */
export interface RunTarget {
  baseUrl: string;
  keys: { active: string; revoked: string; second?: string; otherOrg?: string };
  customerIds: string[];
  otherOrgCustomerId?: string;
}

/** A quote id of the documented example's shape (a letter and eleven letters or digits) that no server issued. */
export const kNeverIssuedQuoteId = 'K0CONFORM000';

/** The operation's example body with configured values put in (e.g. the organisation's customer ids). */
export function bodyFor(op: Operation, target: RunTarget): unknown {
  if (op.exampleBody === undefined) return undefined;
  let body = op.exampleBody;
  for (const [pointer, setting] of Object.entries(op.substitute)) {
    if (setting === 'customerIds') body = writePointer(body, pointer, [...target.customerIds]);
  }
  return body;
}

/**
 * The operation's path with its parameters filled: from the response the document links them to
 * (createQuote → fetchQuote's quoteId) when that response is at hand, else from the document's example.
 */
export function pathFor(op: Operation, created?: Exchange, overrides: Record<string, string> = {}): string {
  const link = linkedParameters().get(op.operationId);
  let path = op.pathTemplate;
  for (const param of op.pathParameters) {
    let value = overrides[param.name];
    if (value === undefined && link && created && created.operation === link.from && String(created.status) === link.status) {
      const linked = readPointer(created.json, link.pointers[param.name] ?? '');
      if (typeof linked === 'string' && linked.length > 0) value = linked;
    }
    value ??= param.example ?? kNeverIssuedQuoteId;
    path = path.replace(`{${param.name}}`, encodeURIComponent(value));
  }
  return path;
}

/** The quote id this run created, read through the document's link, if the creation succeeded. */
export function createdQuoteId(created: Exchange | undefined): string | undefined {
  const fetchOp = listOperations().find(op => linkedParameters().get(op.operationId)?.from === created?.operation);
  if (!fetchOp || !created) return undefined;
  const link = linkedParameters().get(fetchOp.operationId)!;
  if (String(created.status) !== link.status) return undefined;
  const value = readPointer(created.json, Object.values(link.pointers)[0] ?? '');
  return typeof value === 'string' ? value : undefined;
}

/** The operation whose response creates what the others fetch: the first keyed operation with a body. */
export function creatingOperation(): Operation {
  const fromLinks = [...linkedParameters().values()][0]?.from;
  const op = listOperations().find(candidate => candidate.operationId === fromLinks) ?? listOperations().find(candidate => candidate.exampleBody !== undefined);
  if (!op) throw new Error('the OpenAPI document has no operation with an example body to create a quote with');
  return op;
}
