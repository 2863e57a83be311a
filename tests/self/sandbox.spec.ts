import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { expect, test, type APIRequestContext, type APIResponse } from '@playwright/test';

import { createSandbox, type SandboxOptions } from '../../sandbox/app';
import { parseCommandLine } from '../../sandbox/cli';
import { kFaults } from '../../sandbox/faults';
import { issueKey, KeyStore, sha256 } from '../../sandbox/keys';
import { startSandbox, type RunningSandbox } from '../../sandbox/start';
import { findOperation, writePointer } from '../../support/openapi';
import { checkSchema, formatSchemaProblems } from '../../support/schemas';
import { keysIn, runSuiteProcess, type SuiteRun } from './suite-process';

/**
 * The embedded sandbox stands in for Dyspach whenever no base URL is set, so its own answers must
 * hold to the contract: every body it sends is checked against schemas/, and its keys, organisations
 * and base path behave as the documentation says. Each test starts its own sandbox on 127.0.0.1.
 */

const kRoot = path.join(__dirname, '..', '..');
const kQuotePath = '/v1/org/quote/getQuote';
const kDocumentedKey = /^dzk_live_[A-Za-z0-9_-]{64}$/;

type Created = { results: { customerId: string; quoteId: string }[] };

const running: RunningSandbox[] = [];

async function started(options: SandboxOptions = {}): Promise<RunningSandbox> {
  const sandbox = await startSandbox(options);
  running.push(sandbox);
  return sandbox;
}

test.afterEach(async () => {
  await Promise.all(running.splice(0).map(sandbox => sandbox.close()));
});

/** The document's example request, for the given customers. */
function quoteRequest(customerIds: string[]): unknown {
  return writePointer(findOperation('createQuote').exampleBody, '/general/customerIds', customerIds);
}

function keyHeader(key: string | undefined): Record<string, string> {
  return key === undefined ? {} : { 'x-api-key': key };
}

function createQuote(request: APIRequestContext, sandbox: RunningSandbox, key?: string, body?: unknown) {
  return request.post(`${sandbox.url}${kQuotePath}`, {
    headers: keyHeader(key),
    data: body ?? quoteRequest(sandbox.credentials.customerIds),
  });
}

function fetchQuote(request: APIRequestContext, sandbox: RunningSandbox, key: string, quoteId: string) {
  return request.get(`${sandbox.url}${kQuotePath}/${encodeURIComponent(quoteId)}`, { headers: keyHeader(key) });
}

async function created(request: APIRequestContext, sandbox: RunningSandbox, key: string): Promise<Created> {
  return (await (await createQuote(request, sandbox, key)).json()) as Created;
}

/** The parsed body, after checking the status and the body against its schema in schemas/. */
async function expectBody<T = Record<string, unknown>>(
  response: APIResponse,
  status: number,
  schema: string,
): Promise<T> {
  const body: unknown = await response.json();
  const problems = checkSchema(schema, body);

  expect(response.status(), JSON.stringify(body)).toBe(status);
  expect(problems, formatSchemaProblems(problems).join('\n')).toEqual([]);
  return body as T;
}

function rateLimitHeaders(response: APIResponse): { limit: number; remaining: number; reset: number } {
  const headers = response.headers();
  for (const name of ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'])
    expect(headers[name], `${name} must be a non-negative integer`).toMatch(/^\d+$/);
  return {
    limit: Number(headers['ratelimit-limit']),
    remaining: Number(headers['ratelimit-remaining']),
    reset: Number(headers['ratelimit-reset']),
  };
}

test.describe('The sandbox answers in the documented shapes', { tag: '@schema' }, () => {
  test('a quote created with the active key is a 200 valid against QuoteResponse, with RateLimit headers', async ({ request }) => {
    const sandbox = await started();

    const response = await createQuote(request, sandbox, sandbox.credentials.keys.active);

    const body = await expectBody<Created>(response, 200, 'QuoteResponse');
    expect(body.results.map(result => result.customerId)).toEqual(sandbox.credentials.customerIds);
    const window = rateLimitHeaders(response);
    expect(window.limit).toBe(60);
    expect(window.remaining).toBe(59);
    expect(window.reset).toBeGreaterThan(0);
    expect(window.reset).toBeLessThanOrEqual(60);
  });

  test('the created quote, fetched by its id, is a 200 valid against FetchedQuoteResponse with its one result', async ({ request }) => {
    const sandbox = await started();
    const { active } = sandbox.credentials.keys;
    const { results } = await created(request, sandbox, active);

    const response = await fetchQuote(request, sandbox, active, results[1].quoteId);

    const body = await expectBody<Created>(response, 200, 'FetchedQuoteResponse');
    expect(body.results).toEqual([results[1]]);
    expect(rateLimitHeaders(response).remaining).toBe(58);
  });

  test('a body without customerIds or items is a 400 valid against ValidationError, listing each problem', async ({ request }) => {
    const sandbox = await started();
    const invalid = writePointer(writePointer(quoteRequest([]), '/items', []), '/general', {});

    const response = await createQuote(request, sandbox, sandbox.credentials.keys.active, invalid);

    const body = await expectBody<{ message: string[] }>(response, 400, 'ValidationError');
    expect(body.message).toContain('general.customerIds should not be empty');
    expect(body.message).toContain('items should not be empty');
    rateLimitHeaders(response);
  });

  test('no key, an empty key, the revoked key, the portal prefix and an unknown key all get the one documented 401', {
    tag: '@auth',
  }, async ({ request }) => {
    const sandbox = await started();
    const { active, revoked } = sandbox.credentials.keys;
    const presented = [undefined, '', revoked, active.slice(0, 16), issueKey('never-issued')];

    const responses = await Promise.all(presented.map(key => createQuote(request, sandbox, key)));

    for (const response of responses)
      expect(await expectBody(response, 401, 'InvalidApiKey')).toEqual({ message: 'Invalid API key' });
  });

  test('a customer of another organisation is a 403 valid against ForeignCustomer, with no partial results', async ({ request }) => {
    const sandbox = await started();
    const { customerIds, otherOrgCustomerId, keys } = sandbox.credentials;
    const mixed = quoteRequest([...customerIds, otherOrgCustomerId]);

    const response = await createQuote(request, sandbox, keys.active, mixed);

    expect(await expectBody(response, 403, 'ForeignCustomer')).not.toHaveProperty('results');
    rateLimitHeaders(response);
  });

  test('an unknown quote id and another organisation\'s quote get the same 404, valid against QuoteNotFound', async ({ request }) => {
    const sandbox = await started();
    const { keys } = sandbox.credentials;
    const { results } = await created(request, sandbox, keys.active);

    const unknown = await fetchQuote(request, sandbox, keys.active, 'K0CONFORM000');
    const foreign = await fetchQuote(request, sandbox, keys.otherOrg, results[0].quoteId);

    const unknownBody = await expectBody(unknown, 404, 'QuoteNotFound');
    expect(await expectBody(foreign, 404, 'QuoteNotFound')).toEqual(unknownBody);
    rateLimitHeaders(unknown);
  });

  test('the request after the limit is a 429 valid against RateLimitExceeded, with Retry-After', {
    tag: '@rate-limit',
  }, async ({ request }) => {
    const sandbox = await started({ rateLimit: 2, windowSeconds: 30 });
    const { active } = sandbox.credentials.keys;

    const allowed = [await createQuote(request, sandbox, active), await createQuote(request, sandbox, active)];
    const throttled = await createQuote(request, sandbox, active);

    expect(allowed.map(response => rateLimitHeaders(response).remaining)).toEqual([1, 0]);
    const body = await expectBody<{ limit: number; retryAfterSeconds: number }>(throttled, 429, 'RateLimitExceeded');
    const retryAfter = throttled.headers()['retry-after'];
    expect(body.limit).toBe(2);
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeLessThanOrEqual(30);
    expect(body.retryAfterSeconds).toBe(Number(retryAfter));
    expect(rateLimitHeaders(throttled)).toMatchObject({ limit: 2, remaining: 0 });
  });

  test('with the alternative choices, bodies carry undocumented fields and stay valid against their schemas', async ({ request }) => {
    const sandbox = await started({ choices: 'alternative' });

    const accepted = await createQuote(request, sandbox, sandbox.credentials.keys.active);
    const rejected = await createQuote(request, sandbox, undefined);

    expect(await expectBody(accepted, 200, 'QuoteResponse')).toHaveProperty('currency', 'AUD');
    expect(await expectBody(rejected, 401, 'InvalidApiKey')).toHaveProperty('requestId');
  });
});

test.describe('Keys', { tag: '@auth' }, () => {
  test('every issued key has the documented shape: dzk_live_ and 64 characters, _ and - among them', () => {
    const keys = Array.from({ length: 32 }, (_, i) => issueKey(`shape-${i}`));
    const sandboxKeys = Object.values(createSandbox().credentials.keys);

    for (const key of [...keys, ...sandboxKeys]) expect(key).toMatch(kDocumentedKey);
    expect(new Set(sandboxKeys).size).toBe(4);
    // Contract, Authentication: the characters are not stated, so the sandbox does not issue hex.
    expect(keys.some(key => /[_-]/.test(key.slice(9)))).toBe(true);
    expect(keys.some(key => /[^0-9a-f]/.test(key.slice(9)))).toBe(true);
  });

  test('keys are new at every start, and the same for the same seed', () => {
    const seed = crypto.randomBytes(16);

    const [first, second] = [createSandbox(), createSandbox()].map(sandbox => sandbox.credentials.keys);
    const [seeded, reseeded] = [seed, seed].map(keySeed => createSandbox({ keySeed }).credentials.keys);

    expect(first.active).not.toBe(second.active);
    expect(seeded).toEqual(reseeded);
  });

  test('the KeyStore keeps only the SHA-256 hash and the 16-character prefix of a key, never the key', () => {
    const store = new KeyStore();
    const key = issueKey('org-test/active');

    const stored = store.add('org-test', 'active', key);

    const hash = crypto.createHash('sha256').update(key).digest('hex');
    expect(stored).toEqual({
      orgId: 'org-test',
      name: 'active',
      prefix: key.slice(0, 16),
      sha256: hash,
      revoked: false,
    });
    expect(sha256(key)).toBe(hash);
    for (const text of reachableStrings(store))
      expect(text.includes(key.slice(16)), 'the KeyStore holds the key in clear').toBe(false);
    expect(store.findActive(key)).toBe(stored);
    expect(store.findActive(key.slice(0, 16))).toBeUndefined();
  });

  test('an organisation may hold several keys; each works and they share one rate-limit window', async ({ request }) => {
    const sandbox = await started();
    const { active, second } = sandbox.credentials.keys;

    const first = await createQuote(request, sandbox, active);
    const other = await createQuote(request, sandbox, second);

    await expectBody(first, 200, 'QuoteResponse');
    await expectBody(other, 200, 'QuoteResponse');
    expect([first, other].map(response => rateLimitHeaders(response).remaining)).toEqual([59, 58]);
  });

  test('revoking a key stops it at once and leaves the organisation\'s other keys working', async ({ request }) => {
    const store = new KeyStore();
    const [kept, dropped] = [issueKey('org-test/kept'), issueKey('org-test/dropped')];
    store.add('org-test', 'kept', kept);
    store.add('org-test', 'dropped', dropped);
    const sandbox = await started();

    store.revoke('org-test', 'dropped');
    const response = await createQuote(request, sandbox, sandbox.credentials.keys.revoked);

    expect(store.findActive(dropped)).toBeUndefined();
    expect(store.findActive(kept)?.name).toBe('kept');
    expect(await expectBody(response, 401, 'InvalidApiKey')).toEqual({ message: 'Invalid API key' });
  });

  test('two organisations: each is served for its own customers and counted in its own window', async ({ request }) => {
    const sandbox = await started();
    const { keys, customerIds, otherOrgCustomerId } = sandbox.credentials;
    await createQuote(request, sandbox, keys.active);

    const own = await createQuote(request, sandbox, keys.otherOrg, quoteRequest([otherOrgCustomerId]));
    const crossed = await createQuote(request, sandbox, keys.otherOrg, quoteRequest(customerIds));

    const body = await expectBody<Created>(own, 200, 'QuoteResponse');
    expect(body.results.map(result => result.customerId)).toEqual([otherOrgCustomerId]);
    expect(rateLimitHeaders(own).remaining).toBe(59);
    await expectBody(crossed, 403, 'ForeignCustomer');
  });
});

test.describe('Base path', () => {
  test('under a base path the API answers with the prefix kept, and 404 without it', async ({ request }) => {
    const sandbox = await started({ basePath: '/sandbox/' });
    const { active } = sandbox.credentials.keys;
    const origin = new URL(sandbox.url).origin;
    const headers = keyHeader(active);

    const { results } = await created(request, sandbox, active);
    const fetched = await fetchQuote(request, sandbox, active, results[0].quoteId);
    const bare = await request.post(`${origin}${kQuotePath}`, { headers, data: quoteRequest(['ACME']) });
    const bareFetch = await request.get(`${origin}${kQuotePath}/${results[0].quoteId}`, { headers });

    expect(sandbox.url).toBe(`${origin}/sandbox`);
    await expectBody(fetched, 200, 'FetchedQuoteResponse');
    expect([bare.status(), bareFetch.status()]).toEqual([404, 404]);
  });
});

/** Every string reachable from `value` through objects, arrays, Maps and Sets, private fields included. */
function reachableStrings(value: unknown, seen = new Set<unknown>()): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value !== 'object' || value === null || seen.has(value)) return [];
  seen.add(value);
  let children: unknown[] = Object.values(value);
  if (value instanceof Map) children = [...value.keys(), ...value.values()];
  if (value instanceof Set) children = [...value];
  return children.flatMap(child => reachableStrings(child, seen));
}

// --- npm run sandbox ------------------------------------------------------------------------------

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

const kWorkerVariables = ['PLAYWRIGHT_TEST', 'TEST_WORKER_INDEX', 'TEST_PARALLEL_INDEX', 'DEBUG_COLORS'];

/** The environment of a child: without this run's DYSPACH_* settings or Playwright's worker variables. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0' };
  for (const name of Object.keys(env))
    if (name.startsWith('DYSPACH_') || kWorkerVariables.includes(name)) delete env[name];
  return env;
}

function collect(child: ChildProcess): Promise<Finished> {
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', chunk => (out.stdout += String(chunk)));
  child.stderr?.on('data', chunk => (out.stderr += String(chunk)));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', code => resolve({ code, ...out }));
  });
}

/** Runs the sandbox CLI through tsx directly: npm adds a second of start-up and nothing to test. */
function runCli(args: string[]): Promise<Finished> {
  const tsx = path.join(kRoot, 'node_modules', '.bin', 'tsx');
  const child = spawn(tsx, ['sandbox/cli.ts', ...args], { cwd: kRoot, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  return collect(child);
}

/** `pid` and the processes started under it: npm, its shell, tsx and the node process tsx starts. */
function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
      const listed = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
      children.push(...listed.split(/\s+/).filter(Boolean).map(Number));
    }
  } catch {
    children = [];
  }
  return [pid, ...children.flatMap(processTree)];
}

/**
 * Ctrl-C as a terminal sends it: SIGINT to each process of the command, each by its id. Signalling
 * npm alone would not do: its shell does not pass the signal on.
 */
function interrupt(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  for (const pid of processTree(child.pid).reverse()) {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // Gone already.
    }
  }
}

function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    const fail = () => reject(new Error(`no ${pattern} within ${timeoutMs} ms; printed:\n${text}`));
    const timer = setTimeout(fail, timeoutMs);
    child.stdout!.on('data', chunk => {
      text += String(chunk);
      if (!pattern.test(text)) return;
      clearTimeout(timer);
      resolve(text);
    });
    child.once('close', code => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before printing ${pattern}; printed:\n${text}`));
    });
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test.describe('npm run sandbox', () => {
  test('--help lists the options and says why the keys are printed', async () => {
    const options = ['--port', '--base-path', '--fault', '--choices', '--rate-limit', '--window-seconds', '--list-faults'];

    const { code, stdout, stderr } = await runCli(['--help']);

    expect(code).toBe(0);
    expect(stderr).toBe('');
    for (const option of options) expect(stdout).toContain(option);
    expect(stdout).toMatch(/keys are printed on purpose/i);
    expect(stdout).toMatch(/offline/);
  });

  test('--list-faults names every fault with what it imitates', async () => {
    const { code, stdout } = await runCli(['--list-faults']);

    expect(code).toBe(0);
    for (const [name, spec] of Object.entries(kFaults))
      expect(stdout).toMatch(new RegExp(`^ +${name} +${escapeRegExp(spec.imitates)}$`, 'm'));
  });

  test('a misspelt fault is refused with exit code 2, a suggestion and the valid names, and no stack trace', async () => {
    const { code, stdout, stderr } = await runCli(['--fault', 'acceptRevokdKey']);

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('unknown fault "acceptRevokdKey". Did you mean "acceptRevokedKey"?');
    for (const name of Object.keys(kFaults)) expect(stderr).toContain(name);
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  test('each bad argument is refused with one message that names the option and the fix', () => {
    const cases: [string[], string][] = [
      [['--prot', '8080'], 'unknown option --prot. Did you mean --port?'],
      [['--port'], '--port needs a value, e.g. --port 8080.'],
      [['--port', 'eighty'], '--port must be a whole number from 0 to 65535; found "eighty".'],
      [['--rate-limit', '0'], '--rate-limit must be a whole number from 1 to 100000; found "0".'],
      [['--window-seconds', '-5'], '--window-seconds needs a value'],
      [['--choices', 'alternate'], 'found "alternate". Did you mean "alternative"?'],
      [['--base-path', 'sandbox'], '--base-path must be a path such as /sandbox'],
      [['--fault', 'wrong401Body,nope'], 'unknown fault "nope".'],
      [['--help=yes'], '--help takes no value.'],
      [['8080'], 'unexpected argument "8080"'],
    ];
    const valid = ['--fault', 'wrong401Body,plainText401', '--fault', 'wrong401Body', '--base-path', '/sandbox/'];

    for (const [args, message] of cases) expect.soft(() => parseCommandLine(args), args.join(' ')).toThrow(message);
    expect(parseCommandLine(valid)).toEqual({
      kind: 'serve',
      options: {
        port: 0,
        basePath: '/sandbox',
        faults: ['wrong401Body', 'plainText401'],
        choices: 'documented',
        rateLimit: 60,
        windowSeconds: 60,
      },
    });
  });

  test('`npm run sandbox -- --base-path /sandbox --port 0` prints what the suite needs, and the suite passes against it', async ({ request }) => {
    test.setTimeout(90_000);
    const sandbox = spawn('npm', ['run', 'sandbox', '--', '--base-path', '/sandbox', '--port', '0'], {
      cwd: kRoot,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stopped = collect(sandbox);
    const reportsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dyspach-sandbox-cli-'));

    let printed = '';
    let suite: SuiteRun;
    try {
      printed = await waitForOutput(sandbox, /npx playwright test\n/, 20_000);
      const command = /^ *(DYSPACH_BASE_URL=.*) npx playwright test$/m.exec(printed)![1];
      const variables = Object.fromEntries(command.split(' ').map(pair => pair.split(/=(.*)/s).slice(0, 2)));
      suite = await runSuiteProcess(variables, reportsDir);
    } finally {
      interrupt(sandbox);
      fs.rmSync(reportsDir, { recursive: true, force: true });
    }
    const { stderr } = await stopped;

    const url = /listening on (\S+)/.exec(printed)![1];
    const keys = printed.match(/dzk_live_[A-Za-z0-9_-]{64}/g) ?? [];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/sandbox$/);
    expect(new Set(keys).size).toBe(4);
    expect(printed).toContain('customer ids      ACME, ACME-WEST');
    expect(printed).toContain('customer ids      GLOBEX');
    expect(printed).toContain('Rate limit: 60 requests per organisation');
    for (const name of ['API_KEY', 'REVOKED_API_KEY', 'CUSTOMER_ID', 'SECOND_API_KEY', 'OTHER_ORG_API_KEY'])
      expect(printed).toContain(` DYSPACH_${name}=`);
    expect(printed).toContain(' DYSPACH_OTHER_ORG_CUSTOMER_ID=GLOBEX ');

    expect(suite.code, suite.output).toBe(0);
    expect(suite.output).toContain(`Dyspach conformance suite → ${url}`);
    expect(suite.output).toContain('VERDICT: SHIP');
    expect(keysIn(suite.output, keys.map(value => ({ value, role: 'a printed sandbox key' })))).toEqual([]);

    expect(stderr).toContain('Sandbox stopped (SIGINT).');
    await expect(request.get(url, { timeout: 2000 })).rejects.toThrow(/ECONNREFUSED/);
  });
});
