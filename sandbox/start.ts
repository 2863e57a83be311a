import type { AddressInfo } from 'node:net';

import { serve } from '@hono/node-server';

import { createSandbox, type SandboxOptions } from './app';

/** Starts the sandbox on 127.0.0.1 (port 0 = any free port) and returns its base URL. */
export async function startSandbox(options: SandboxOptions & { port?: number; host?: string } = {}) {
  const sandbox = createSandbox(options);
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const created = serve({ fetch: sandbox.app.fetch, port: options.port ?? 0, hostname: options.host ?? '127.0.0.1' }, () => resolve(created));
    created.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}${(options.basePath ?? '').replace(/\/+$/, '')}`;
  return {
    url,
    credentials: sandbox.credentials,
    faults: sandbox.faults,
    stats: sandbox.stats,
    reset: sandbox.reset,
    close: () =>
      new Promise<void>(resolve => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

export type RunningSandbox = Awaited<ReturnType<typeof startSandbox>>;
