import { keyPrefix, registerSecret } from './redact';

/**
 * Configuration comes from environment variables (and an optional `.env`, loaded by
 * playwright.config.ts). `loadSettings()` checks every variable at once and throws one
 * `ConfigError` listing each problem; it never prints a key, only its shape.
 */

export const kProductionHost = 'api.dyspach.com';
export const kDocumentedKeyShape = /^dzk_live_[^\s]{64}$/;
export const kDocumentedKeyShapeText = '`dzk_live_` followed by 64 characters';

interface VariableSpec {
  name: string;
  description: string;
  secret?: boolean;
}

/** Every variable the suite reads; `.env.example` documents the same list. */
export const kVariables: VariableSpec[] = [
  { name: 'DYSPACH_BASE_URL', description: 'base URL of the deployment under test; unset = the embedded local sandbox' },
  { name: 'DYSPACH_API_KEY', description: 'an active key of the organisation under test', secret: true },
  { name: 'DYSPACH_REVOKED_API_KEY', description: 'a key of the same organisation that has been revoked', secret: true },
  { name: 'DYSPACH_CUSTOMER_ID', description: 'customer internal id(s) of that organisation, comma-separated' },
  { name: 'DYSPACH_SECOND_API_KEY', description: 'optional: another active key of the same organisation', secret: true },
  { name: 'DYSPACH_OTHER_ORG_API_KEY', description: 'optional: an active key of a different organisation', secret: true },
  { name: 'DYSPACH_OTHER_ORG_CUSTOMER_ID', description: 'optional: a customer of that other organisation' },
  { name: 'DYSPACH_ALLOW_PRODUCTION', description: 'set to `true` to allow a run against api.dyspach.com' },
  { name: 'DYSPACH_REQUEST_TIMEOUT_MS', description: 'per-request timeout in milliseconds (default 10000)' },
  { name: 'DYSPACH_THROTTLING', description: 'set to `1` to run the opt-in throttling check (spends a whole window)' },
  { name: 'DYSPACH_THOROUGH', description: 'set to `1` to add the opt-in thorough probes (more requests than the 50 of a default run)' },
  { name: 'DYSPACH_SANDBOX_FAULTS', description: 'local sandbox only: comma-separated fault names to switch on' },
  { name: 'DYSPACH_SANDBOX_CHOICES', description: 'local sandbox only: `documented` (default) or `alternative`' },
  { name: 'DYSPACH_SANDBOX_RATE_LIMIT', description: 'local sandbox only: requests per window (default 60)' },
  { name: 'DYSPACH_SANDBOX_WINDOW_SECONDS', description: 'local sandbox only: window length in seconds (default 60)' },
  { name: 'DYSPACH_ENV_FILE', description: 'the dotenv file to read (default .env; `none` reads none)' },
  { name: 'DYSPACH_REPORTS_DIR', description: 'where the run writes its reports (default ./reports)' },
  { name: 'DYSPACH_SELF_TEST_SEED', description: 'the suite\'s own tests: seed of their sandboxes\' keys, which the leak check looks for' },
  { name: 'DYSPACH_LOCAL_SANDBOX', description: 'set by the suite itself for its worker processes; never set it by hand' },
  { name: 'DYSPACH_RUN_SESSION', description: 'set by the suite itself for its worker processes; never set it by hand' },
];

const kKnownNames = new Set(kVariables.map(v => v.name));

export interface Keys {
  active: string;
  revoked: string;
  second?: string;
  otherOrg?: string;
}

export interface Settings {
  /** `sandbox`: the suite starts (or was handed) the embedded local sandbox. */
  targetKind: 'sandbox' | 'remote';
  /** Only set once a target is known; the sandbox's is set after it starts. */
  baseUrl?: string;
  keys?: Keys;
  customerIds: string[];
  otherOrgCustomerId?: string;
  requestTimeoutMs: number;
  throttling: boolean;
  /** Opt-in probes beyond the default run's 50-request budget. */
  thorough: boolean;
  sandbox: { faults: string[]; choices: 'documented' | 'alternative'; rateLimit: number; windowSeconds: number };
  warnings: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      [
        `The suite's configuration has ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}; no requests were sent.`,
        ...problems.map(problem => `  - ${problem}`),
        'Variables are read from the environment and from .env; .env.example documents each one.',
      ].join('\n'),
    );
    this.name = 'ConfigError';
    // A configuration problem is the user's to fix, not a bug: no stack trace.
    this.stack = this.message;
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

/** The candidate closest to `name` (letter case ignored), if it is close enough to be a typo of it. */
export function closestMatch(name: string, candidates: Iterable<string>): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const known of candidates) {
    const distance = editDistance(name.toUpperCase(), known.toUpperCase());
    if (!best || distance < best.distance) best = { name: known, distance };
  }
  return best && best.distance <= Math.max(3, Math.floor(best.name.length / 4)) ? best.name : undefined;
}

function closestName(name: string): string | undefined {
  return closestMatch(name, kKnownNames);
}

/** Describes a value's shape without showing it. */
function shapeOf(value: string): string {
  return `${value.length} characters`;
}

/**
 * Cleans a key as pasted: surrounding whitespace (including a trailing newline) is not part of an
 * HTTP field value (RFC 9110 §5.5) and is dropped; anything else unusual is refused.
 */
function readKey(env: NodeJS.ProcessEnv, name: string, problems: string[], warnings: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = raw.trim();
  if (value === '') {
    problems.push(`${name} is only whitespace: set it to the key, or unset it.`);
    return undefined;
  }
  if (/^(["'`]).*\1$/s.test(value)) {
    problems.push(`${name} is wrapped in quotes (${shapeOf(value)} with them): remove the quotes around the key.`);
    return undefined;
  }
  const bad = [...value].findIndex(ch => ch <= ' ' || ch > '~');
  if (bad >= 0) {
    const kind = /\s/.test(value[bad]) ? 'whitespace' : value.charCodeAt(bad) < 32 ? 'a control character' : 'a non-ASCII character';
    problems.push(`${name} contains ${kind} at position ${bad + 1} of ${value.length}: a key is one unbroken token; paste it again.`);
    return undefined;
  }
  if (!kDocumentedKeyShape.test(value)) {
    warnings.push(
      `${name} is not of the documented shape (${kDocumentedKeyShapeText}); it has ${shapeOf(value)}` +
        `${value.startsWith('dzk_live_') ? '' : ' and another prefix'}. Continuing, since a sandbox may issue another prefix.`,
    );
  }
  return value;
}

function readInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max}; found "${raw}".`);
    return fallback;
  }
  return Number(raw);
}

function readBaseUrl(env: NodeJS.ProcessEnv, problems: string[]): string | undefined {
  const raw = env.DYSPACH_BASE_URL?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    const local = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:|\/|$)/i.test(raw);
    const hint = /^[\w.-]+(:\d+)?(\/|$)/.test(raw) || local ? ` Did you mean "${local ? 'http' : 'https'}://${raw}"?` : '';
    problems.push(`DYSPACH_BASE_URL must be an http:// or https:// URL; found "${raw}".${hint}`);
    return undefined;
  }
  if (url.username || url.password) {
    problems.push('DYSPACH_BASE_URL carries credentials (user:password@); the suite authenticates with x-api-key only: remove them.');
    return undefined;
  }
  if (url.search || url.hash) {
    problems.push(`DYSPACH_BASE_URL must not carry a query or fragment; found "${url.origin}${url.pathname}${url.search ? '?…' : ''}${url.hash ? '#…' : ''}".`);
    return undefined;
  }
  if (url.hostname.toLowerCase().replace(/\.$/, '') === kProductionHost && env.DYSPACH_ALLOW_PRODUCTION?.trim() !== 'true') {
    problems.push(
      `DYSPACH_BASE_URL points at production (${kProductionHost}). The suite sends deliberately wrong keys and spends the ` +
        'organisation\'s rate limit; run it against your sandbox, or set DYSPACH_ALLOW_PRODUCTION=true if you really mean it.',
    );
    return undefined;
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function readCustomerIds(raw: string | undefined, name: string, problems: string[]): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  const ids = raw.split(',').map(id => id.trim());
  if (ids.some(id => id === '')) problems.push(`${name} has an empty entry; write ids separated by commas, e.g. "ACME,ACME-WEST".`);
  if (ids.length > 50) problems.push(`${name} lists ${ids.length} customers; a request takes at most 50.`);
  return ids.filter(id => id !== '');
}

/** The embedded sandbox's credentials, handed from the runner to its worker processes. */
export interface LocalSandboxHandoff {
  baseUrl: string;
  keys: Keys;
  customerIds: string[];
  otherOrgCustomerId: string;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const problems: string[] = [];
  const warnings: string[] = [];

  for (const name of Object.keys(env)) {
    const upper = name.toUpperCase();
    if (kKnownNames.has(name)) continue;
    const suggestion = closestName(name);
    const looksOurs = upper.startsWith('DYSPACH') || upper.startsWith('DYSPATCH') || upper.startsWith('DISPACH');
    if (looksOurs || (suggestion && editDistance(upper, suggestion) <= 2))
      problems.push(`${name} is not a variable this suite reads.${suggestion ? ` Did you mean ${suggestion}?` : ''}`);
  }

  const sandbox: Settings['sandbox'] = {
    faults: (env.DYSPACH_SANDBOX_FAULTS ?? '').split(',').map(f => f.trim()).filter(Boolean),
    choices: 'documented',
    rateLimit: readInteger(env, 'DYSPACH_SANDBOX_RATE_LIMIT', 60, 1, 100000, problems),
    windowSeconds: readInteger(env, 'DYSPACH_SANDBOX_WINDOW_SECONDS', 60, 1, 3600, problems),
  };
  const choices = env.DYSPACH_SANDBOX_CHOICES?.trim();
  if (choices === 'alternative' || choices === 'documented') sandbox.choices = choices;
  else if (choices) problems.push(`DYSPACH_SANDBOX_CHOICES must be "documented" or "alternative"; found "${choices}".`);

  const allowProduction = env.DYSPACH_ALLOW_PRODUCTION?.trim();
  if (allowProduction && allowProduction !== 'true' && allowProduction !== 'false')
    problems.push(`DYSPACH_ALLOW_PRODUCTION must be "true" or "false"; found "${allowProduction}".`);

  const thorough = env.DYSPACH_THOROUGH?.trim();
  if (thorough && thorough !== '1' && thorough !== '0')
    problems.push(`DYSPACH_THOROUGH must be "1" (add the thorough probes) or "0"; found "${thorough}".`);

  const throttling = env.DYSPACH_THROTTLING?.trim();
  if (throttling && throttling !== '1' && throttling !== '0')
    problems.push(`DYSPACH_THROTTLING must be "1" (run the throttling check) or "0"; found "${throttling}".`);

  const settings: Settings = {
    targetKind: 'sandbox',
    customerIds: [],
    requestTimeoutMs: readInteger(env, 'DYSPACH_REQUEST_TIMEOUT_MS', 10000, 100, 600000, problems),
    throttling: throttling === '1',
    thorough: thorough === '1',
    sandbox,
    warnings,
  };

  const handoff = env.DYSPACH_LOCAL_SANDBOX;
  if (handoff) {
    const local = JSON.parse(handoff) as LocalSandboxHandoff;
    Object.assign(settings, { baseUrl: local.baseUrl, keys: local.keys, customerIds: local.customerIds, otherOrgCustomerId: local.otherOrgCustomerId });
    registerKeys(local.keys);
  } else {
    const baseUrl = readBaseUrl(env, problems);
    const active = readKey(env, 'DYSPACH_API_KEY', problems, warnings);
    const revoked = readKey(env, 'DYSPACH_REVOKED_API_KEY', problems, warnings);
    const second = readKey(env, 'DYSPACH_SECOND_API_KEY', problems, warnings);
    const otherOrg = readKey(env, 'DYSPACH_OTHER_ORG_API_KEY', problems, warnings);
    const customerIds = readCustomerIds(env.DYSPACH_CUSTOMER_ID, 'DYSPACH_CUSTOMER_ID', problems);
    const otherCustomer = env.DYSPACH_OTHER_ORG_CUSTOMER_ID?.trim() || undefined;

    const given = ['DYSPACH_API_KEY', 'DYSPACH_REVOKED_API_KEY', 'DYSPACH_CUSTOMER_ID', 'DYSPACH_SECOND_API_KEY', 'DYSPACH_OTHER_ORG_API_KEY', 'DYSPACH_OTHER_ORG_CUSTOMER_ID'].filter(
      name => env[name] !== undefined && env[name] !== '',
    );
    if (!env.DYSPACH_BASE_URL?.trim()) {
      if (given.length > 0)
        problems.push(
          `${given.join(', ')} ${given.length === 1 ? 'is' : 'are'} set but DYSPACH_BASE_URL is not. Set DYSPACH_BASE_URL to the deployment ` +
            'those belong to, or unset them to run against the embedded local sandbox.',
        );
    } else {
      settings.targetKind = 'remote';
      settings.baseUrl = baseUrl;
      if (!env.DYSPACH_API_KEY) problems.push('DYSPACH_API_KEY is missing: set it to an active key of the organisation under test.');
      if (!env.DYSPACH_REVOKED_API_KEY) problems.push('DYSPACH_REVOKED_API_KEY is missing: create a key in the portal, revoke it, and set it here.');
      if (customerIds.length === 0 && !problems.some(p => p.startsWith('DYSPACH_CUSTOMER_ID')))
        problems.push('DYSPACH_CUSTOMER_ID is missing: set it to a customer internal id of that organisation (e.g. ACME).');
      if (active && revoked && active === revoked) problems.push('DYSPACH_API_KEY and DYSPACH_REVOKED_API_KEY are the same key: the revoked key must be a different, revoked one.');
      if (active && second && active === second) problems.push('DYSPACH_SECOND_API_KEY is the same key as DYSPACH_API_KEY: use another active key, or unset it.');
      if ((otherOrg === undefined) !== (otherCustomer === undefined) && !problems.some(p => p.includes('DYSPACH_OTHER_ORG_API_KEY')))
        problems.push('DYSPACH_OTHER_ORG_API_KEY and DYSPACH_OTHER_ORG_CUSTOMER_ID go together: set both, or neither.');
      if (active && revoked) settings.keys = { active, revoked, second, otherOrg };
      settings.customerIds = customerIds;
      settings.otherOrgCustomerId = otherCustomer;
    }
    if (settings.targetKind === 'remote' && (sandbox.faults.length > 0 || choices))
      warnings.push('DYSPACH_SANDBOX_* variables only affect the embedded local sandbox; DYSPACH_BASE_URL is set, so they are ignored.');
  }

  if (problems.length > 0) throw new ConfigError(problems);
  if (settings.keys) registerKeys(settings.keys);
  return settings;
}

/** How reports name each key: by its role, never by its value. */
export const kKeyRoles: Record<keyof Keys, string> = {
  active: 'active key',
  revoked: 'revoked key',
  second: 'second active key',
  otherOrg: 'other organisation\'s key',
};

const kKeyVariables: Record<keyof Keys, string> = {
  active: 'DYSPACH_API_KEY',
  revoked: 'DYSPACH_REVOKED_API_KEY',
  second: 'DYSPACH_SECOND_API_KEY',
  otherOrg: 'DYSPACH_OTHER_ORG_API_KEY',
};

export function registerKeys(keys: Keys): void {
  for (const [name, role] of Object.entries(kKeyRoles) as [keyof Keys, string][]) registerSecret(keys[name], role);
}

/**
 * The keys as the environment holds them, for the leak check: a key that `loadSettings` refused
 * (quoted, broken by whitespace) is never registered, yet it must not show up in a report either.
 */
export function configuredSecrets(env: NodeJS.ProcessEnv = process.env): { value: string; role: string }[] {
  const out: { value: string; role: string }[] = [];
  for (const [name, variable] of Object.entries(kKeyVariables) as [keyof Keys, string][]) {
    const value = env[variable]?.trim();
    if (!value) continue;
    out.push({ value, role: kKeyRoles[name] });
    const unquoted = value.replace(/^(["'`])(.*)\1$/s, '$2').trim();
    if (unquoted !== value) out.push({ value: unquoted, role: kKeyRoles[name] });
  }
  return out;
}

/** How a key is named in reports: its role, and the 16-character prefix that the portal shows. */
export function describeKey(role: string, key: string | undefined): string {
  return key && key.length > 16 ? `${role} (${keyPrefix(key)}…)` : role;
}
