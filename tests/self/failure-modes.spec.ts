import type { APIRequestContext } from '@playwright/test';
import { expect, test } from '@playwright/test';

import { startSandbox } from '../../sandbox/start';
import { exchange, TransportError } from '../../support/exchange';
import { preflight } from '../../support/suite';
import { kSelfTestSeed } from './harness';
import { closedPort, sendJson, startStub, type StubHandler } from './stub-server';
import { kSeeded, keysIn, runSuiteProcess, seededTarget, stackLines, type SuiteRun } from './suite-process';

/**
 * When the run cannot go ahead, it ends quickly with one message that says what to fix: no stack
 * trace, no test run, no key printed. Each case runs `playwright test` in a child process against a
 * server this test starts on 127.0.0.1 (or a port nothing listens on); no traffic leaves loopback.
 */

const kDidNotStart = 'VERDICT: DON\'T SHIP — the run did not start (see the message above).';
const kPath = '/v1/org/quote/getQuote';
const kPreflight = `POST ${kPath} (active key, first request of the run)`;
const kActive = kSeeded.keys.active;

/** The suite, run in a child process with `variables` and its own reports folder. */
function runSuite(variables: Record<string, string>, args: string[] = []): Promise<SuiteRun> {
  return runSuiteProcess(variables, test.info().outputPath('reports'), args);
}

/** The run stopped before any test with `message`, shown once, and nothing else a user must read. */
function expectOneCleanStop(run: SuiteRun, message: string) {
  expect(run.code, run.output).not.toBe(0);
  expect(run.output).toContain(message);
  expect(run.output.split(message).length - 1, 'the message is shown once').toBe(1);
  expect(run.output).toContain(kDidNotStart);
  expect(run.output, 'no test ran').not.toMatch(/Running \d+ tests?|\d+ (passed|failed)/);
  expect(stackLines(run.output)).toEqual([]);
  expect(run.output).not.toMatch(/\b(ConfigError|PreflightError|TransportError|Error):/);
  expect(keysIn(run.output)).toEqual([]);
  expect(run.durationMs).toBeLessThan(20_000);
}

test.describe('the target cannot be used: one message, before any test', () => {
  test('a target that refuses connections is named, with its host and port to check', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;

    const run = await runSuite(seededTarget(url));

    expectOneCleanStop(run, [
      `Cannot run the suite: ${kPreflight}: the connection to ${url} was refused. ` +
        'Is the deployment up, and is DYSPACH_BASE_URL\'s host and port right?',
      'No contract check was run.',
    ].join('\n'));
  });

  const pages: { title: string; handler: StubHandler; message: (url: string) => string[] }[] = [
    {
      title: 'a login page (HTML) instead of JSON is reported as something in the way, not as contract failures',
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><html><head><title>Sign in</title></head><body><form>…</form></body></html>');
      },
      message: url => [
        `Cannot run the suite: POST ${url}${kPath} answered 200 with an HTML page ("Sign in"), not JSON.`,
        'A proxy, gateway or login page is probably in the way. Check that DYSPACH_BASE_URL is the API\'s base URL (not the portal\'s).',
      ],
    },
    {
      title: 'a gateway\'s 502 error page is reported as the deployment being unreachable',
      handler: (_req, res) => {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>');
      },
      message: url => [
        `Cannot run the suite: POST ${url}${kPath} answered 502 Bad Gateway, an HTML page ("502 Bad Gateway").`,
        'A gateway in front of the API could not reach it. Check that the deployment is up, then run again.',
      ],
    },
    {
      title: 'a target that rejects the active key itself ends the run with one configuration message',
      handler: (_req, res) => sendJson(res, 401, { message: 'Invalid API key' }),
      message: url => [
        `Cannot run the suite: the active key (DYSPACH_API_KEY) was rejected with 401 by POST ${url}${kPath}.`,
        'Check that it is the full key (not the 16-character prefix shown in the portal), that it is not revoked, and that it',
        'belongs to this deployment. If the key is right, the deployment rejects valid keys: that alone means "don\'t ship".',
      ],
    },
    {
      title: 'a base URL without the deployment\'s path prefix (a JSON 404) is reported as a wrong path, not as contract failures',
      handler: (_req, res) => sendJson(res, 404, { statusCode: 404, message: 'Cannot POST /v1/org/quote/getQuote', error: 'Not Found' }),
      message: url => [
        `Cannot run the suite: POST ${url}${kPath} answered 404 Not Found: the API is not at this path.`,
        'Check DYSPACH_BASE_URL: it must include any path prefix the deployment is served under (e.g. https://host/partner) and stop before /v1.',
      ],
    },
  ];
  for (const page of pages) {
    test(page.title, async () => {
      const stub = await startStub(page.handler);

      const run = await runSuite(seededTarget(stub.url));
      await stub.close();

      expectOneCleanStop(run, page.message(stub.url).join('\n'));
      expect(stub.requests.length, 'only the first request was sent').toBe(1);
    });
  }

  test('a target that does not answer is given up after DYSPACH_REQUEST_TIMEOUT_MS, naming the request', async () => {
    const stub = await startStub(() => {});

    const run = await runSuite({ ...seededTarget(stub.url), DYSPACH_REQUEST_TIMEOUT_MS: '300' });
    await stub.close();

    expectOneCleanStop(run, [
      `Cannot run the suite: ${kPreflight} got no answer within 300 ms. ` +
        'The target may be overloaded or unreachable; DYSPACH_REQUEST_TIMEOUT_MS sets the limit.',
      'No contract check was run.',
    ].join('\n'));
    expect(run.durationMs).toBeLessThan(10_000);
  });

  test('a target that trickles its answer is given up after the same timeout', async () => {
    const stub = await startStub((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const drip = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(drip));
    });

    const run = await runSuite({ ...seededTarget(stub.url), DYSPACH_REQUEST_TIMEOUT_MS: '400' });
    await stub.close();

    expectOneCleanStop(run, `Cannot run the suite: ${kPreflight} got no answer within 400 ms.`);
  });
});

test.describe('a host name that does not resolve (synthetic errors: no DNS lookup is made)', () => {
  const host = 'api.example.invalid';
  const baseUrl = `http://${host}`;
  const errors: Record<string, Error> = {
    'Node (code ENOTFOUND)': Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', hostname: host }),
    // Playwright's message quotes its call log, request headers included.
    'Playwright (message only, with its call log)': new Error(
      `apiRequestContext.fetch: getaddrinfo ENOTFOUND ${host}\nCall log:\n  - → POST ${baseUrl}${kPath}\n    - x-api-key: ${kActive}`,
    ),
    'a temporary DNS failure (EAI_AGAIN)': Object.assign(new Error(`getaddrinfo EAI_AGAIN ${host}`), { code: 'EAI_AGAIN' }),
  };
  const failing = (error: Error) => ({ fetch: async () => Promise.reject(error) }) as unknown as APIRequestContext;
  const doesNotResolve = `the host of ${baseUrl} does not resolve. Check DYSPACH_BASE_URL for a typo, and that this machine can reach a DNS server.`;

  for (const [shape, error] of Object.entries(errors)) {
    test(`is classified "dns" and told as a typo to check, without the error's text — ${shape}`, async () => {
      const probe = { method: 'POST', path: kPath, label: 'revoked key', key: { role: 'revoked key', value: kActive } };

      const thrown = await exchange(probe, { baseUrl, timeoutMs: 500, playwright: failing(error) }).catch((e: unknown) => e);

      expect(thrown).toBeInstanceOf(TransportError);
      expect((thrown as TransportError).code).toBe('dns');
      expect((thrown as TransportError).message).toBe(`POST ${kPath} (revoked key): ${doesNotResolve}`);
      expect(keysIn(`${(thrown as Error).message}\n${(thrown as Error).stack}`)).toEqual([]);
    });
  }

  test('ends the run\'s first request with one message', async () => {
    const target = { baseUrl, keys: kSeeded.keys, customerIds: ['ACME'] };

    const thrown = (await preflight(target, 500, failing(errors['Node (code ENOTFOUND)'])).catch((e: unknown) => e)) as Error;

    expect(thrown.message).toBe([`Cannot run the suite: ${kPreflight}: ${doesNotResolve}`, 'No contract check was run.'].join('\n'));
    expect(thrown.stack).toBe(thrown.message);
  });
});

test.describe('malformed variables: one configuration message, nothing sent', () => {
  test('a base URL without its scheme and a misspelt variable beside it are both reported, with the right names', async () => {
    const stub = await startStub((_req, res) => res.end());
    const hostAndPort = stub.url.replace('http://', '');

    const run = await runSuite({ ...seededTarget(hostAndPort), DYSPACH_REQEST_TIMEOUT_MS: '5000' });
    await stub.close();

    expectOneCleanStop(run, [
      'The suite\'s configuration has 2 problems; no requests were sent.',
      '  - DYSPACH_REQEST_TIMEOUT_MS is not a variable this suite reads. Did you mean DYSPACH_REQUEST_TIMEOUT_MS?',
      `  - DYSPACH_BASE_URL must be an http:// or https:// URL; found "${hostAndPort}". Did you mean "http://${hostAndPort}"?`,
      'Variables are read from the environment and from .env; .env.example documents each one.',
    ].join('\n'));
    expect(stub.requests).toHaveLength(0);
  });

  const refused: { title: string; key: string; problem: string }[] = [
    {
      title: 'a key pasted with its quotes is refused, and not printed',
      key: `"${kActive}"`,
      problem: `DYSPACH_API_KEY is wrapped in quotes (${kActive.length + 2} characters with them): remove the quotes around the key.`,
    },
    {
      title: 'a key broken by whitespace inside is refused, and not printed',
      key: `${kActive.slice(0, 40)} ${kActive.slice(40)}`,
      problem: `DYSPACH_API_KEY contains whitespace at position 41 of ${kActive.length + 1}: a key is one unbroken token; paste it again.`,
    },
  ];
  for (const item of refused) {
    test(item.title, async () => {
      const stub = await startStub((_req, res) => res.end());

      const run = await runSuite({ ...seededTarget(stub.url), DYSPACH_API_KEY: item.key });
      await stub.close();

      expectOneCleanStop(run, [
        'The suite\'s configuration has a problem; no requests were sent.',
        `  - ${item.problem}`,
        'Variables are read from the environment and from .env; .env.example documents each one.',
      ].join('\n'));
      expect(keysIn(run.output, [{ value: item.key, role: 'key as pasted' }])).toEqual([]);
      expect(stub.requests).toHaveLength(0);
    });
  }

  test('a key pasted with a trailing newline and spaces is trimmed and accepted', async () => {
    const sandbox = await startSandbox({ keySeed: kSelfTestSeed });
    const pasted = { DYSPACH_API_KEY: `${kActive}\n  `, DYSPACH_REVOKED_API_KEY: `  ${kSeeded.keys.revoked}\r\n` };

    const run = await runSuite({ ...seededTarget(sandbox.url), ...pasted }, ['-g', 'the active key is served']);
    await sandbox.close();

    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('2 passed');
    expect(run.output).not.toContain('Warning');
    expect(run.output).not.toContain('Leak check');
    expect(sandbox.stats.byStatus['200'], 'the first request and the fetch were served').toBeGreaterThanOrEqual(2);
    expect(keysIn(run.output)).toEqual([]);
  });

  test('a key not of the documented shape is warned about, naming the shape, and still used', async () => {
    const stub = await startStub((_req, res) => sendJson(res, 401, { message: 'Invalid API key' }));
    const otherShape = `sbx_test_${'k3Y'.repeat(12)}`;

    const run = await runSuite({ ...seededTarget(stub.url), DYSPACH_API_KEY: otherShape });
    await stub.close();

    expect(run.output).toContain(
      'Warning: DYSPACH_API_KEY is not of the documented shape (`dzk_live_` followed by 64 characters); ' +
        'it has 45 characters and another prefix. Continuing, since a sandbox may issue another prefix.',
    );
    expect(stub.requests.map(request => request.key === otherShape), 'the key was sent as set').toEqual([true]);
    expectOneCleanStop(run, `Cannot run the suite: the active key (DYSPACH_API_KEY) was rejected with 401 by POST ${stub.url}${kPath}.`);
    expect(keysIn(run.output, [{ value: otherShape, role: 'key of another shape' }])).toEqual([]);
  });
});

test('a request that times out during a test fails that test with a message naming it, and no key', async () => {
  // The first request (the run's preflight) is answered; every later one is left unanswered.
  const stub = await startStub((_req, res, index) => {
    if (index === 0) sendJson(res, 200, { results: [] });
  });

  const run = await runSuite({ ...seededTarget(stub.url), DYSPACH_REQUEST_TIMEOUT_MS: '300' }, ['-g', 'the revoked key is answered 401']);
  await stub.close();

  expect(run.code, run.output).not.toBe(0);
  expect(run.output).toContain(`POST ${kPath} (revoked key) got no answer within 300 ms.`);
  expect(run.output).toContain('could not complete');
  // Playwright's own record of the failed call lists the request headers: the redact reporter scrubs it.
  expect(run.output).not.toContain('Leak check');
  expect(keysIn(run.output)).toEqual([]);
});

test.describe('the target goes away during the run', () => {
  test('the first test that cannot reach it fails with the reason; the rest are skipped, not failed one by one', async () => {
    const sandbox = await startSandbox({ keySeed: kSelfTestSeed });
    // Answers the run's first request through the sandbox, then stops listening.
    const stub = await startStub((req, res, index) => {
      if (index > 0) return res.socket?.destroy();
      const chunks: Buffer[] = [];
      req.on('data', chunk => chunks.push(chunk as Buffer));
      req.on('end', async () => {
        const answer = await fetch(`${sandbox.url}${req.url}`, {
          method: req.method,
          headers: { 'content-type': 'application/json', 'x-api-key': String(req.headers['x-api-key'] ?? '') },
          body: Buffer.concat(chunks),
        });
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await answer.arrayBuffer()));
        setImmediate(() => void stub.close());
      });
    });

    const run = await runSuite(seededTarget(stub.url));
    await sandbox.close();

    expect(run.code, run.output).not.toBe(0);
    expect(run.output).toMatch(/1 failed/);
    expect(run.output).not.toMatch(/\b[2-9]\d* failed/);
    expect(run.output).toContain('not run: the target stopped answering earlier in this run');
    expect(run.output).toContain('was refused');
    expect(keysIn(run.output)).toEqual([]);
    expect(run.durationMs).toBeLessThan(30_000);
  });
});

test.describe('the embedded sandbox\'s own variables', () => {
  test('an unknown fault name in DYSPACH_SANDBOX_FAULTS is one configuration message with the closest name', async () => {
    const run = await runSuite({ DYSPACH_SANDBOX_FAULTS: 'acceptRevokedKeys' });

    expectOneCleanStop(run, [
      'The suite\'s configuration has a problem; no requests were sent.',
      '  - DYSPACH_SANDBOX_FAULTS names an unknown fault "acceptRevokedKeys". Did you mean acceptRevokedKey? `npm run sandbox -- --list-faults` lists them.',
    ].join('\n'));
  });
});

test.describe('selections', () => {
  test('listing the tests runs nothing, sends nothing and leaves no verdict', async () => {
    const run = await runSuite({}, ['--list']);

    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/Total: \d+ tests in \d+ files/);
    expect(run.output).not.toContain('VERDICT');
  });

  test('a selection in which every test is skipped checks nothing, so it does not ship', async () => {
    const run = await runSuite({}, ['--grep', '@throttling']);

    expect(run.code, run.output).not.toBe(0);
    expect(run.output).toContain('VERDICT: DON\'T SHIP — no contract check ran (all 1 selected tests were skipped, see above).');
  });
});
