import fs from 'node:fs';
import path from 'node:path';

import type { OpenAPIV3_1 } from 'openapi-types';

/** Where the contract lives; every schema the suite and the sandbox use comes from this file. */
export const kOpenApiPath = path.join(__dirname, '..', 'schemas', 'dyspach.openapi.json');

/** The id under which the document is registered with ajv; component schemas are `${kDocumentId}#/components/schemas/<Name>`. */
export const kDocumentId = 'https://contract.dyspach.invalid/dyspach.openapi.json';

export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';
const kMethods: HttpMethod[] = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Suite-specific data an operation may carry under `x-conformance`. */
export interface ConformanceExtension {
  /** JSON Pointer into the example body → name of a configured value (`customerIds`). */
  substitute?: Record<string, 'customerIds'>;
}

export interface Operation {
  operationId: string;
  method: HttpMethod;
  /** Path template as written in the document, e.g. `/v1/org/quote/getQuote/{quoteId}`. */
  pathTemplate: string;
  summary: string;
  requiresKey: boolean;
  /** An example request body, when the operation takes one. */
  exampleBody?: unknown;
  substitute: Record<string, 'customerIds'>;
  /** Path parameters with the example the document gives for each. */
  pathParameters: { name: string; example?: string }[];
  /** Response status → `$ref` name of the body schema under components/schemas. */
  responseSchemas: Map<string, string>;
  /** Response status → header names the document marks required. */
  requiredHeaders: Map<string, string[]>;
  raw: OpenAPIV3_1.OperationObject;
}

let cached: OpenAPIV3_1.Document | undefined;

export function loadDocument(): OpenAPIV3_1.Document {
  cached ??= JSON.parse(fs.readFileSync(kOpenApiPath, 'utf8')) as OpenAPIV3_1.Document;
  return cached;
}

type Ref = OpenAPIV3_1.ReferenceObject;
function isRef(value: unknown): value is Ref {
  return typeof value === 'object' && value !== null && '$ref' in value;
}

/** Resolves a local `#/components/...` reference inside the document. */
export function resolveRef<T>(doc: OpenAPIV3_1.Document, value: T | Ref): T {
  let current: unknown = value;
  for (let depth = 0; isRef(current); depth++) {
    if (depth > 16) throw new Error(`reference loop at ${current.$ref}`);
    if (!current.$ref.startsWith('#/')) throw new Error(`only local references are supported: ${current.$ref}`);
    current = current.$ref
      .slice(2)
      .split('/')
      .reduce<unknown>((node, part) => (node as Record<string, unknown>)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
    if (current === undefined) throw new Error(`unresolved reference ${String((value as Ref).$ref)}`);
  }
  return current as T;
}

function schemaName(schema: unknown): string | undefined {
  if (!isRef(schema)) return undefined;
  const match = /^#\/components\/schemas\/([^/]+)$/.exec(schema.$ref);
  return match?.[1];
}

function securityNeedsKey(doc: OpenAPIV3_1.Document, requirements: OpenAPIV3_1.SecurityRequirementObject[] | undefined): boolean {
  const effective = requirements ?? doc.security ?? [];
  const schemes = doc.components?.securitySchemes ?? {};
  // An empty requirement object ({}) means "anonymous allowed": the operation does not need the key.
  if (effective.length === 0 || effective.some(requirement => Object.keys(requirement).length === 0)) return false;
  return effective.every(requirement =>
    Object.keys(requirement).some(name => {
      const scheme = resolveRef(doc, schemes[name]) as OpenAPIV3_1.SecuritySchemeObject | undefined;
      return scheme?.type === 'apiKey' && scheme.in === 'header' && scheme.name.toLowerCase() === 'x-api-key';
    }),
  );
}

/** Every operation in the document, in document order. */
export function listOperations(doc: OpenAPIV3_1.Document = loadDocument()): Operation[] {
  const operations: Operation[] = [];
  for (const [pathTemplate, item] of Object.entries(doc.paths ?? {})) {
    if (!item) continue;
    for (const method of kMethods) {
      const op = item[method];
      if (!op) continue;
      if (!op.operationId) throw new Error(`${method.toUpperCase()} ${pathTemplate} has no operationId`);

      const parameters = [...(item.parameters ?? []), ...(op.parameters ?? [])].map(p => resolveRef<OpenAPIV3_1.ParameterObject>(doc, p));
      const pathParameters = parameters
        .filter(p => p.in === 'path')
        .map(p => ({ name: p.name, example: p.example === undefined ? undefined : String(p.example) }));

      let exampleBody: unknown;
      if (op.requestBody) {
        const body = resolveRef<OpenAPIV3_1.RequestBodyObject>(doc, op.requestBody);
        const media = body.content['application/json'];
        const firstExample = media?.examples ? Object.values(media.examples)[0] : undefined;
        exampleBody = media?.example ?? (firstExample ? resolveRef<OpenAPIV3_1.ExampleObject>(doc, firstExample).value : undefined);
      }

      const responseSchemas = new Map<string, string>();
      const requiredHeaders = new Map<string, string[]>();
      for (const [status, responseOrRef] of Object.entries(op.responses ?? {})) {
        const response = resolveRef<OpenAPIV3_1.ResponseObject>(doc, responseOrRef);
        const name = schemaName(response.content?.['application/json']?.schema);
        if (name) responseSchemas.set(status, name);
        const headers = Object.entries(response.headers ?? {})
          .filter(([, header]) => resolveRef<OpenAPIV3_1.HeaderObject>(doc, header).required)
          .map(([headerName]) => headerName);
        requiredHeaders.set(status, headers);
      }

      const extension = (op as { 'x-conformance'?: ConformanceExtension })['x-conformance'];
      operations.push({
        operationId: op.operationId,
        method,
        pathTemplate,
        summary: op.summary ?? op.operationId,
        requiresKey: securityNeedsKey(doc, op.security),
        exampleBody,
        substitute: extension?.substitute ?? {},
        pathParameters,
        responseSchemas,
        requiredHeaders,
        raw: op,
      });
    }
  }
  return operations;
}

/** Operations the contract guards with `x-api-key`; the authentication checks run once for each. */
export function keyedOperations(doc: OpenAPIV3_1.Document = loadDocument()): Operation[] {
  return listOperations(doc).filter(op => op.requiresKey);
}

export function findOperation(operationId: string): Operation {
  const op = listOperations().find(candidate => candidate.operationId === operationId);
  if (!op) throw new Error(`operation ${operationId} is not in ${path.basename(kOpenApiPath)}`);
  return op;
}

/**
 * Path parameters that an operation can take from another operation's response, following the
 * document's `links` (e.g. createQuote 200 → fetchQuote `quoteId` = `$response.body#/results/0/quoteId`).
 */
export function linkedParameters(doc: OpenAPIV3_1.Document = loadDocument()): Map<string, { from: string; status: string; pointers: Record<string, string> }> {
  const links = new Map<string, { from: string; status: string; pointers: Record<string, string> }>();
  for (const op of listOperations(doc)) {
    for (const [status, responseOrRef] of Object.entries(op.raw.responses ?? {})) {
      const response = resolveRef<OpenAPIV3_1.ResponseObject>(doc, responseOrRef);
      for (const linkOrRef of Object.values(response.links ?? {})) {
        const link = resolveRef<OpenAPIV3_1.LinkObject>(doc, linkOrRef);
        if (!link.operationId) continue;
        const pointers: Record<string, string> = {};
        for (const [name, expression] of Object.entries(link.parameters ?? {})) {
          const match = /^\$response\.body#(\/.*)$/.exec(String(expression));
          if (match) pointers[name] = match[1];
        }
        links.set(link.operationId, { from: op.operationId, status, pointers });
      }
    }
  }
  return links;
}

/** Reads a JSON Pointer (RFC 6901) from a parsed body. */
export function readPointer(value: unknown, pointer: string): unknown {
  if (pointer === '') return value;
  return pointer
    .slice(1)
    .split('/')
    .map(part => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, part) => (node === null || typeof node !== 'object' ? undefined : (node as Record<string, unknown>)[part]), value);
}

/** Returns a copy of `value` with the JSON Pointer location set to `replacement`. */
export function writePointer<T>(value: T, pointer: string, replacement: unknown): T {
  const copy = structuredClone(value);
  const parts = pointer.slice(1).split('/').map(part => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node = copy as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = replacement;
  return copy;
}
