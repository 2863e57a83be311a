import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubRequest {
  method: string;
  path: string;
  /** The x-api-key as received; compare it, never print it. */
  key?: string;
  at: number;
}

export type StubHandler = (req: http.IncomingMessage, res: http.ServerResponse, index: number) => void;

/**
 * A server on 127.0.0.1 (port 0: any free port) that answers every request with `handler` and
 * records what it received. For the failure modes of the target: refusals, HTML pages, silence.
 */
export async function startStub(handler: StubHandler) {
  const requests: StubRequest[] = [];
  const server = http.createServer((req, res) => {
    const key = req.headers['x-api-key'];
    const presented = Array.isArray(key) ? key.join(', ') : key;
    requests.push({ method: req.method ?? '', path: req.url ?? '', key: presented, at: Date.now() });
    req.resume();
    handler(req, res, requests.length - 1);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type Stub = Awaited<ReturnType<typeof startStub>>;

/** A port on 127.0.0.1 that nothing listens on: a server is bound to it, then closed. */
export async function closedPort(): Promise<number> {
  const stub = await startStub((_req, res) => res.end());
  await stub.close();
  return stub.port;
}

/** Sends `body` as JSON with the documented RateLimit headers (or those given). */
export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, {
    'content-type': 'application/json',
    'ratelimit-limit': '60',
    'ratelimit-remaining': '59',
    'ratelimit-reset': '60',
    ...headers,
  });
  res.end(JSON.stringify(body));
}
