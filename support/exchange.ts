import http from 'node:http';
import https from 'node:https';

import type { APIRequestContext } from '@playwright/test';

import { redact } from './redact';

/**
 * A probe is one request the suite wants to send. The key travels in `key`, never in `headers`,
 * so that everything recorded about the probe can name the key by its role instead of its value.
 */
export interface Probe {
  /** operationId from the OpenAPI document, when the probe targets a documented operation. */
  operation?: string;
  method: string;
  /** Path below the base URL, starting with `/`. */
  path: string;
  /** Extra headers, in order; a name may repeat (sent as separate field lines on the raw transport). */
  headers?: [string, string][];
  /** The key and how it is presented; `value: undefined` sends no key at all. */
  key?: { role: string; value: string | undefined; header?: string; repeat?: { role: string; value: string }[] };
  /** Secret-bearing query parameters, named by role in every record. */
  secretQuery?: { name: string; value: string; role: string }[];
  /** A JSON body, or raw text with its content type. */
  body?: { json: unknown } | { raw: string; contentType: string };
  /** `raw`: Node's own HTTP client on a fresh connection, for what Playwright's request API cannot express. */
  transport?: 'playwright' | 'raw';
  /** With `raw`: send on this keep-alive agent's connection instead of a fresh one. */
  agent?: http.Agent;
  /** What the probe is, for titles: "revoked key", "near miss: last character cut". */
  label: string;
  /** The probe is meant to exhaust the window: no pacing, and a 429 is an answer, not something to retry. */
  expectThrottle?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Headers as sent, with every key replaced by its role. */
  headers: [string, string][];
  body?: unknown;
  transport: 'playwright' | 'raw';
}

export interface Exchange {
  seq: number;
  operation?: string;
  label: string;
  keyRole: string;
  /** True when a key of an organisation (active, second, other organisation) was sent. */
  authenticated: boolean;
  request: RecordedRequest;
  status: number;
  statusText: string;
  /** Response headers by lower-case name; repeated fields joined with ", ". */
  headers: Record<string, string>;
  text: string;
  json?: unknown;
  /** Set when the body is not valid JSON. */
  jsonError?: string;
  durationMs: number;
  startedAt: number;
  /** Set when the exchange was retried once after an unrequested 429. */
  retriedAfter429?: number;
}

export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: 'refused' | 'dns' | 'timeout' | 'reset' | 'tls' | 'invalid-header' | 'other',
  ) {
    super(message);
    this.name = 'TransportError';
    this.stack = this.message;
  }
}

interface RawResponse {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: Buffer;
}

function classify(error: unknown): TransportError['code'] {
  const text = `${(error as { code?: string }).code ?? ''} ${(error as Error).message ?? ''}`;
  if (/ECONNREFUSED/.test(text)) return 'refused';
  if (/ENOTFOUND|EAI_AGAIN|getaddrinfo/.test(text)) return 'dns';
  if (/Timeout|ETIMEDOUT|timed out/i.test(text)) return 'timeout';
  if (/EPROTO|ERR_SSL|SSL routines|wrong version number|certificate|CERT_|self[- ]signed|UNABLE_TO_VERIFY|TLS/i.test(text)) return 'tls';
  if (/ECONNRESET|socket hang up|EPIPE/.test(text)) return 'reset';
  if (/Invalid character in header|ERR_INVALID_CHAR|Invalid header value|ERR_HTTP_INVALID_HEADER_VALUE/i.test(text)) return 'invalid-header';
  return 'other';
}

function describeTransportFailure(code: TransportError['code'], where: string, timeoutMs: number, baseUrl: string): string {
  switch (code) {
    case 'refused':
      return `${where}: the connection to ${baseUrl} was refused. Is the deployment up, and is DYSPACH_BASE_URL's host and port right?`;
    case 'dns':
      return `${where}: the host of ${baseUrl} does not resolve. Check DYSPACH_BASE_URL for a typo, and that this machine can reach a DNS server.`;
    case 'timeout':
      return `${where} got no answer within ${timeoutMs} ms. The target may be overloaded or unreachable; DYSPACH_REQUEST_TIMEOUT_MS sets the limit.`;
    case 'tls':
      return `${where}: the TLS handshake with ${baseUrl} failed. If the target is served over plain HTTP (as a local sandbox is), use an http:// base URL; otherwise check its certificate.`;
    case 'reset':
      return `${where}: the target closed the connection without answering.`;
    case 'invalid-header':
      return `${where}: the HTTP client refused to send a header value (it contains a character HTTP does not allow).`;
    default:
      return `${where}: the request failed before an answer arrived.`;
  }
}

function lowerHeaders(headers: http.IncomingHttpHeaders | Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

export interface WireRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body?: string;
  agent?: http.Agent;
}

/** Node's own client on a fresh connection: repeated header lines, exact header-name case, no cookie jar. */
export function sendRaw(request: WireRequest, timeoutMs: number): Promise<RawResponse> {
  const url = new URL(request.url);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(url, { method: request.method, agent: request.agent ?? false, timeout: timeoutMs, setHost: true });
    const grouped = new Map<string, { name: string; values: string[] }>();
    for (const [name, value] of request.headers) {
      const entry = grouped.get(name.toLowerCase()) ?? { name, values: [] };
      entry.values.push(value);
      grouped.set(name.toLowerCase(), entry);
    }
    try {
      for (const { name, values } of grouped.values()) req.setHeader(name, values.length === 1 ? values[0] : values);
      if (!request.agent) req.setHeader('connection', 'close');
    } catch (error) {
      req.destroy();
      reject(error);
      return;
    }
    const fail = (error: Error) => {
      clearTimeout(deadline);
      req.destroy();
      reject(error);
    };
    const timedOut = () => fail(Object.assign(new Error('Timeout'), { code: 'ETIMEDOUT' }));
    // The socket's timeout measures silence only; the deadline also stops a server that trickles its answer.
    const deadline = setTimeout(timedOut, timeoutMs);
    req.on('timeout', timedOut);
    req.on('error', fail);
    req.on('response', res => {
      const chunks: Buffer[] = [];
      res.on('data', chunk => chunks.push(chunk as Buffer));
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(deadline);
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: lowerHeaders(res.headers), body: Buffer.concat(chunks) });
      });
    });
    req.end(request.body);
  });
}

async function sendWithPlaywright(context: APIRequestContext, request: WireRequest, timeoutMs: number): Promise<RawResponse> {
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  const response = await context.fetch(request.url, {
    method: request.method,
    headers,
    data: request.body,
    timeout: timeoutMs,
    failOnStatusCode: false,
    maxRedirects: 0,
  });
  const body = await response.body();
  return { status: response.status(), statusText: response.statusText(), headers: lowerHeaders(response.headers()), body };
}

export interface TransportOptions {
  baseUrl: string;
  timeoutMs: number;
  playwright?: APIRequestContext;
}

const kAuthenticatedRoles = /^(active key|second active key|other organisation's key)/;

let sequence = 0;

/** Builds the wire request for a probe; the only place where key values meet headers. */
export function toWire(probe: Probe, baseUrl: string): { wire: WireRequest; recorded: RecordedRequest } {
  const headers: [string, string][] = [];
  const recordedHeaders: [string, string][] = [];
  if (probe.key && probe.key.value !== undefined) {
    const name = probe.key.header ?? 'x-api-key';
    headers.push([name, probe.key.value]);
    recordedHeaders.push([name, `‹${probe.key.role}›`]);
    for (const extra of probe.key.repeat ?? []) {
      headers.push([name, extra.value]);
      recordedHeaders.push([name, `‹${extra.role}›`]);
    }
  }
  let body: string | undefined;
  if (probe.body && 'json' in probe.body) {
    body = JSON.stringify(probe.body.json);
    headers.push(['content-type', 'application/json']);
    recordedHeaders.push(['content-type', 'application/json']);
  } else if (probe.body) {
    body = probe.body.raw;
    headers.push(['content-type', probe.body.contentType]);
    recordedHeaders.push(['content-type', probe.body.contentType]);
  }
  for (const [name, value] of probe.headers ?? []) {
    headers.push([name, value]);
    recordedHeaders.push([name, redact(value)]);
  }
  let query = '';
  let recordedQuery = '';
  for (const param of probe.secretQuery ?? []) {
    query += `${query ? '&' : '?'}${encodeURIComponent(param.name)}=${encodeURIComponent(param.value)}`;
    recordedQuery += `${recordedQuery ? '&' : '?'}${encodeURIComponent(param.name)}=‹${param.role}›`;
  }
  return {
    wire: { method: probe.method, url: `${baseUrl}${probe.path}${query}`, headers, body, agent: probe.agent },
    recorded: {
      method: probe.method,
      path: `${probe.path}${recordedQuery}`,
      headers: recordedHeaders,
      body: probe.body && 'json' in probe.body ? probe.body.json : probe.body?.raw,
      transport: probe.transport ?? 'playwright',
    },
  };
}

/** Sends one probe and records the exchange. Any error thrown is a `TransportError` whose message carries no key. */
export async function exchange(probe: Probe, options: TransportOptions): Promise<Exchange> {
  const { wire, recorded } = toWire(probe, options.baseUrl);
  const where = `${probe.method} ${recorded.path} (${probe.label})`;
  const startedAt = Date.now();
  const started = performance.now();
  let raw: RawResponse;
  try {
    raw = probe.transport === 'raw' || !options.playwright ? await sendRaw(wire, options.timeoutMs) : await sendWithPlaywright(options.playwright, wire, options.timeoutMs);
  } catch (error) {
    // Playwright's and Node's errors can quote request headers; none of their text is passed on.
    throw new TransportError(redact(describeTransportFailure(classify(error), where, options.timeoutMs, options.baseUrl)), classify(error));
  }
  const durationMs = performance.now() - started;
  const text = raw.body.toString('utf8');
  let json: unknown;
  let jsonError: string | undefined;
  if (text.length > 0 && probe.method !== 'HEAD') {
    try {
      json = JSON.parse(text);
    } catch (error) {
      jsonError = (error as Error).message;
    }
  } else {
    jsonError = 'empty body';
  }
  return {
    seq: ++sequence,
    operation: probe.operation,
    label: probe.label,
    keyRole: probe.key?.value === undefined ? 'no key' : probe.key.role,
    authenticated: probe.key?.value !== undefined && kAuthenticatedRoles.test(probe.key.role) && !probe.key.repeat,
    request: recorded,
    status: raw.status,
    statusText: raw.statusText,
    headers: raw.headers,
    text,
    json,
    jsonError,
    durationMs,
    startedAt,
  };
}

/** A redacted, size-limited view of an exchange for attachments and failure messages. */
export function summarizeExchange(ex: Exchange, bodyLimit = 2000) {
  return {
    request: ex.request,
    response: {
      status: ex.status,
      statusText: ex.statusText,
      headers: ex.headers,
      body: ex.text.length > bodyLimit ? `${ex.text.slice(0, bodyLimit)}… (${ex.text.length} characters)` : ex.text,
    },
    durationMs: Math.round(ex.durationMs * 10) / 10,
  };
}
