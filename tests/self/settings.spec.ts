import { expect, test } from '@playwright/test';

import { ConfigError, configuredSecrets, loadSettings } from '../../support/settings';
import { keysIn, kSeeded } from './suite-process';

/**
 * loadSettings() reads every variable at once: it never defaults to production, refuses it unless
 * told, and reports each problem by name and shape without printing a key. Pure function tests:
 * nothing here sends a request.
 */

const kKey = kSeeded.keys.active;
const kRevoked = kSeeded.keys.revoked;

function remote(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    DYSPACH_BASE_URL: 'https://sandbox.example.test',
    DYSPACH_API_KEY: kKey,
    DYSPACH_REVOKED_API_KEY: kRevoked,
    DYSPACH_CUSTOMER_ID: 'ACME',
    ...overrides,
  };
}

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadSettings(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect(keysIn((error as Error).message, configuredSecrets(env))).toEqual([]);
    return (error as ConfigError).problems;
  }
  return [];
}

test.describe('production', () => {
  const kRefusal =
    'DYSPACH_BASE_URL points at production (api.dyspach.com). The suite sends deliberately wrong keys and spends the organisation\'s rate limit; ' +
    'run it against your sandbox, or set DYSPACH_ALLOW_PRODUCTION=true if you really mean it.';

  const kProduction = 'https://api.dyspach.com';

  for (const url of [kProduction, 'https://API.Dyspach.com/', 'https://api.dyspach.com./v1', 'http://api.dyspach.com:443']) {
    test(`is refused without DYSPACH_ALLOW_PRODUCTION — ${url}`, () => {
      expect(problemsOf(remote({ DYSPACH_BASE_URL: url }))).toEqual([kRefusal]);
    });
  }

  test('is refused when DYSPACH_ALLOW_PRODUCTION is anything but "true"', () => {
    expect(problemsOf(remote({ DYSPACH_BASE_URL: kProduction, DYSPACH_ALLOW_PRODUCTION: 'false' }))).toEqual([kRefusal]);
    expect(problemsOf(remote({ DYSPACH_BASE_URL: kProduction, DYSPACH_ALLOW_PRODUCTION: 'yes' }))).toContain(
      'DYSPACH_ALLOW_PRODUCTION must be "true" or "false"; found "yes".',
    );
  });

  test('is allowed with DYSPACH_ALLOW_PRODUCTION=true (no request is sent by loading settings)', () => {
    expect(loadSettings(remote({ DYSPACH_BASE_URL: kProduction, DYSPACH_ALLOW_PRODUCTION: 'true' })).baseUrl).toBe(kProduction);
  });

  test('is never the default: with no base URL the target is the embedded sandbox', () => {
    const settings = loadSettings({});

    expect(settings.targetKind).toBe('sandbox');
    expect(settings.baseUrl).toBeUndefined();
  });

  test('is not matched by a host that merely contains its name', () => {
    expect(loadSettings(remote({ DYSPACH_BASE_URL: 'https://api.dyspach.com.sandbox.example.test' })).targetKind).toBe('remote');
  });
});

test.describe('the base URL', () => {
  test('without a scheme is refused, with the URL it probably meant', () => {
    expect(problemsOf(remote({ DYSPACH_BASE_URL: 'sandbox.example.test:8443/partner' }))).toEqual([
      'DYSPACH_BASE_URL must be an http:// or https:// URL; found "sandbox.example.test:8443/partner". Did you mean "https://sandbox.example.test:8443/partner"?',
    ]);
  });

  test('loses its trailing slashes and keeps its path prefix', () => {
    const settings = loadSettings(remote({ DYSPACH_BASE_URL: 'https://sandbox.example.test/partner//' }));

    expect(settings.baseUrl).toBe('https://sandbox.example.test/partner');
  });

  test('with credentials or a query is refused, without echoing them', () => {
    const problems = problemsOf(remote({ DYSPACH_BASE_URL: `https://user:${kKey}@sandbox.example.test/?key=${kKey}` }));

    expect(problems).toEqual(['DYSPACH_BASE_URL carries credentials (user:password@); the suite authenticates with x-api-key only: remove them.']);
    expect(keysIn(problems.join('\n'))).toEqual([]);
  });
});

test.describe('variable names', () => {
  test('a misspelt variable is reported with the name it probably meant, beside the other problems', () => {
    expect(problemsOf(remote({ DYSPACH_API_KY: kKey, DYSPACH_BASE_URL: 'sandbox.example.test' }))).toEqual([
      'DYSPACH_API_KY is not a variable this suite reads. Did you mean DYSPACH_API_KEY?',
      'DYSPACH_BASE_URL must be an http:// or https:// URL; found "sandbox.example.test". Did you mean "https://sandbox.example.test"?',
    ]);
  });

  test('a variable of another tool is left alone', () => {
    expect(problemsOf(remote({ PATH: '/usr/bin', CI: 'true', PLAYWRIGHT_HTML_OPEN: 'never' }))).toEqual([]);
  });
});

test.describe('a key as pasted', () => {
  test('with a trailing newline and spaces is trimmed and accepted, without a warning', () => {
    const settings = loadSettings(remote({ DYSPACH_API_KEY: `${kKey}\n`, DYSPACH_REVOKED_API_KEY: `  ${kRevoked} \r\n` }));

    expect(settings.keys?.active === kKey && settings.keys?.revoked === kRevoked).toBe(true);
    expect(settings.warnings).toEqual([]);
  });

  test('wrapped in quotes is refused, by its length, never its value', () => {
    for (const quote of ['"', '\'', '`'])
      expect(problemsOf(remote({ DYSPACH_API_KEY: `${quote}${kKey}${quote}` }))).toEqual([
        'DYSPACH_API_KEY is wrapped in quotes (75 characters with them): remove the quotes around the key.',
      ]);
  });

  test('with whitespace or a control character inside is refused, by position', () => {
    expect(problemsOf(remote({ DYSPACH_API_KEY: `${kKey.slice(0, 20)} ${kKey.slice(20)}` }))).toEqual([
      'DYSPACH_API_KEY contains whitespace at position 21 of 74: a key is one unbroken token; paste it again.',
    ]);
    expect(problemsOf(remote({ DYSPACH_REVOKED_API_KEY: `${kRevoked.slice(0, 30)}\u0007${kRevoked.slice(30)}` }))).toEqual([
      'DYSPACH_REVOKED_API_KEY contains a control character at position 31 of 74: a key is one unbroken token; paste it again.',
    ]);
  });

  test('not of the documented shape is a warning naming the shape, not a refusal', () => {
    const other = `dzk_test_${'a'.repeat(40)}`;

    const settings = loadSettings(remote({ DYSPACH_API_KEY: other }));

    expect(settings.keys?.active === other).toBe(true);
    expect(settings.warnings).toEqual([
      'DYSPACH_API_KEY is not of the documented shape (`dzk_live_` followed by 64 characters); it has 49 characters and another prefix. ' +
        'Continuing, since a sandbox may issue another prefix.',
    ]);
  });

  test('the same as the revoked key is refused', () => {
    expect(problemsOf(remote({ DYSPACH_REVOKED_API_KEY: kKey }))).toEqual([
      'DYSPACH_API_KEY and DYSPACH_REVOKED_API_KEY are the same key: the revoked key must be a different, revoked one.',
    ]);
  });
});

test('a configuration error has no stack trace: its message is all a user sees', () => {
  let error: Error | undefined;
  try {
    loadSettings(remote({ DYSPACH_BASE_URL: 'ftp://sandbox.example.test' }));
  } catch (caught) {
    error = caught as Error;
  }

  expect(error?.stack).toBe(error?.message);
  expect(error?.message.split('\n')[0]).toBe('The suite\'s configuration has a problem; no requests were sent.');
});

test('the leak check looks for the configured keys as set, even those it refused', () => {
  const env = remote({ DYSPACH_API_KEY: `"${kKey}"\n`, DYSPACH_SECOND_API_KEY: ' ' });

  const isKey = (value: string) => value === kKey || value === kRevoked;
  const named = configuredSecrets(env).map(secret => `${secret.role}: ${isKey(secret.value) ? 'the key' : secret.value.length}`);

  expect(named).toEqual(['active key: 75', 'active key: the key', 'revoked key: the key']);
});
