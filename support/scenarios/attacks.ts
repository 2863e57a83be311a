import http from 'node:http';

import { received, type Violation } from '../checks';
import type { Exchange, Probe } from '../exchange';
import type { Operation } from '../openapi';
import { keyPrefix } from '../redact';
import type { Scenario, ScenarioContext } from '../suite';
import { bodilessFirst, derived, expectRejected, expectServed, kDocumented401, neverIssuedKey, opName, rejectionScenario, rotate } from './helpers';

const kSection = 'Authentication under attack';

/** Flips the letter case of the key's secret part, keeping its `dzk_live_` environment prefix. */
function flipCase(key: string): string {
  const match = /^(dzk_[a-z]+_)(.*)$/s.exec(key);
  const [head, body] = match ? [match[1], match[2]] : ['', key];
  return head + [...body].map(ch => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase())).join('');
}

/** A character of the key's alphabet that differs from `ch`. */
function other(ch: string): string {
  return ch === 'A' ? 'B' : 'A';
}

interface NearMiss {
  slug: string;
  title: string;
  make(active: string): string | undefined;
  /** Sent only with DYSPACH_THOROUGH=1. */
  thorough?: boolean;
}

/** Near misses of the active key, each the input a real comparison bug accepts. */
const kNearMisses: NearMiss[] = [
  { slug: 'truncated', title: 'the active key with its last character cut', make: key => key.slice(0, -1) },
  { slug: 'extended', title: 'the active key with one character appended', make: key => `${key}A` },
  { slug: 'last-replaced', title: 'the active key with its last character replaced', make: key => key.slice(0, -1) + other(key.slice(-1)) },
  {
    slug: 'middle-replaced',
    title: 'the active key with a middle character replaced',
    make: key => {
      const middle = Math.floor((16 + key.length) / 2);
      return key.slice(0, middle) + other(key[middle]) + key.slice(middle + 1);
    },
  },
  { slug: 'case-flipped', title: 'the active key with its letters\' case flipped', make: key => (flipCase(key) === key ? undefined : flipCase(key)) },
  {
    slug: 'other-environment',
    title: 'the active key\'s secret under another environment\'s prefix (dzk_test_)',
    make: key => (key.startsWith('dzk_live_') ? `dzk_test_${key.slice(9)}` : /^dzk_[a-z]+_/.test(key) ? key.replace(/^dzk_[a-z]+_/, 'dzk_live_') : undefined),
  },
  { slug: 'never-issued', title: 'a well-formed key that was never issued', make: () => neverIssuedKey() },
  {
    slug: 'inner-space',
    title: 'the active key with a space inside it',
    make: key => `${key.slice(0, Math.floor((16 + key.length) / 2))} ${key.slice(Math.floor((16 + key.length) / 2))}`,
    thorough: true,
  },
  { slug: 'trailing-word', title: 'the active key followed by a space and another word', make: key => `${key} extra`, thorough: true },
];

interface Hostile {
  slug: string;
  title: string;
  value: string;
  /** Statuses HTTP itself allows for this value besides 401. */
  alsoLegal?: number[];
}

const kHostileValues: Hostile[] = [
  // RFC 9110 §15.5.20 (via RFC 6585): a server may refuse an oversized header field with 431.
  { slug: 'long', title: 'a 4 KB key', value: `dzk_live_${'A'.repeat(4096)}`, alsoLegal: [431] },
  { slug: 'sql', title: 'the SQL-shaped value \' OR \'1\'=\'1', value: '\' OR \'1\'=\'1' },
  { slug: 'percent', title: 'the wildcard value %', value: '%' },
  { slug: 'star', title: 'the wildcard value *', value: '*' },
  { slug: 'prefix-wildcard', title: 'the wildcard value dzk_live_%', value: 'dzk_live_%' },
  // RFC 9110 §5.5: surrounding whitespace is not part of a field value, so this is an empty key.
  { slug: 'spaces', title: 'a value of only spaces', value: '    ' },
];

interface Placement {
  where: string;
  applies(op: Operation): boolean;
  add(probe: Probe, key: string): Probe;
}

const kQueryNames = ['x-api-key', 'api_key', 'apiKey', 'apikey', 'key', 'token', 'access_token'];
const kHeaderNames = ['apikey', 'api-key', 'x-apikey', 'x-api-token', 'x-auth-token'];
const kCookieNames = ['x-api-key', 'api_key', 'apiKey', 'apikey'];
const kBodyFields = ['apiKey', 'api_key', 'x-api-key', 'apikey'];

/** Places where API gateways and frameworks have been seen to read a key, besides the documented header. */
const kPlacements: Placement[] = [
  { where: 'Authorization: Bearer', applies: () => true, add: (probe, key) => ({ ...probe, headers: [...(probe.headers ?? []), ['Authorization', `Bearer ${key}`]] }) },
  { where: `headers ${kHeaderNames.join(', ')}`, applies: () => true, add: (probe, key) => ({ ...probe, headers: [...(probe.headers ?? []), ...kHeaderNames.map(name => [name, key] as [string, string])] }) },
  { where: `query parameters ${kQueryNames.join(', ')}`, applies: () => true, add: (probe, key) => ({ ...probe, secretQuery: [...(probe.secretQuery ?? []), ...kQueryNames.map(name => ({ name, value: key, role: 'active key' }))] }) },
  { where: `cookies ${kCookieNames.join(', ')}`, applies: () => true, add: (probe, key) => ({ ...probe, headers: [...(probe.headers ?? []), ['Cookie', kCookieNames.map(name => `${name}=${encodeURIComponent(key)}`).join('; ')]] }) },
  {
    where: `body fields ${kBodyFields.join(', ')}`,
    applies: op => op.exampleBody !== undefined,
    add: (probe, key) => {
      const json = probe.body && 'json' in probe.body ? (probe.body.json as Record<string, unknown>) : {};
      return { ...probe, body: { json: { ...json, ...Object.fromEntries(kBodyFields.map(field => [field, key])) } } };
    },
  },
];

/** The operation's example request with no x-api-key, and the active key in each of `placements`. */
function placedProbe(ctx: ScenarioContext, op: Operation, placements: Placement[], label: string): Probe {
  // Raw transport: the key sits in the URL, and Playwright's own step titles would show it.
  const probe = ctx.probe(op, label, { role: 'no key', value: undefined }, { transport: 'raw' });
  return placements.reduce((current, placement) => placement.add(current, ctx.target.keys.active), probe);
}

interface PathVariant {
  slug: string;
  title: string;
  label: string;
  path(plain: string): string;
  /** Sent only with DYSPACH_THOROUGH=1. */
  thorough?: boolean;
}

/** Paths that reach the same handler on many routers, and that a guard bound to the exact path may miss. */
const kPathVariants: PathVariant[] = [
  { slug: 'trailing-slash', title: 'its path with a trailing slash', label: 'trailing slash', path: plain => `${plain}/` },
  { slug: 'other-case', title: 'its path in other letter case', label: 'path in upper case', path: plain => plain.toUpperCase() },
  { slug: 'double-slash', title: 'its path with a doubled slash', label: 'doubled slash', path: plain => plain.replace(/^\/([^/]+)\//, '/$1//'), thorough: true },
];

/** Exchanges this run already holds for a rejected key kind; the uniformity checks compare them. */
const kRejectionKinds: { kind: string; match: (ex: Exchange) => boolean }[] = [
  { kind: 'no key', match: ex => ex.keyRole === 'no key' && ex.label === 'no key' },
  { kind: 'empty key', match: ex => ex.keyRole === 'empty key' },
  { kind: 'portal prefix', match: ex => ex.keyRole.startsWith('portal prefix') },
  { kind: 'revoked key', match: ex => ex.keyRole === 'revoked key' && ex.label.startsWith('revoked key') },
  { kind: 'never-issued key', match: ex => ex.keyRole === 'never-issued key' },
];

function documentedFields(ex: Exchange): string {
  const body = ex.json as { message?: unknown } | undefined;
  return JSON.stringify({ status: ex.status, type: (ex.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase(), message: body?.message });
}

/** Key kinds the caller presented a value for; a header may tell these from "no key" (RFC 6750's `error=`), not from each other. */
const kPresentedKinds = new Set(['portal prefix', 'revoked key', 'never-issued key']);

/**
 * Features beyond the documented fields that could tell kinds apart: undocumented body fields, the
 * body's length (its formatting), the reason phrase and, among presented keys, header names and values.
 * A feature that varies within one kind (a request id, a date) is noise; one that is constant within
 * each kind but differs between kinds, or that only one kind ever shows, is an oracle.
 */
function oracleFeatures(byKind: Map<string, Exchange[]>): string[] {
  const ignoredHeaders = new Set(['date', 'content-length', 'connection', 'keep-alive', 'ratelimit-remaining', 'ratelimit-reset', 'x-request-id', 'etag']);
  const features = (kind: string, ex: Exchange): Map<string, string> => {
    const out = new Map<string, string>();
    if (ex.json && typeof ex.json === 'object' && !Array.isArray(ex.json))
      for (const [field, value] of Object.entries(ex.json as Record<string, unknown>)) if (field !== 'message') out.set(`body field "${field}"`, JSON.stringify(value));
    out.set('body length', String(ex.text.length));
    out.set('reason phrase', ex.statusText);
    if (kPresentedKinds.has(kind)) for (const name of Object.keys(ex.headers)) if (!ignoredHeaders.has(name)) out.set(`header ${name}`, ex.headers[name]);
    return out;
  };
  const all = new Set<string>();
  for (const [kind, list] of byKind) for (const ex of list) for (const name of features(kind, ex).keys()) all.add(name);

  const oracles: string[] = [];
  for (const feature of all) {
    const perKind = [...byKind.entries()]
      .filter(([kind]) => !feature.startsWith('header ') || kPresentedKinds.has(kind))
      .map(([kind, list]) => ({ kind, values: list.map(ex => features(kind, ex).get(feature) ?? '(absent)') }));
    const showing = perKind.filter(({ values }) => values.some(value => value !== '(absent)'));
    if (perKind.length > 1 && showing.length === 1) {
      oracles.push(`${feature} appears only for the ${showing[0].kind}`);
      continue;
    }
    const noisy = perKind.some(({ values }) => new Set(values).size > 1);
    const representative = new Set(perKind.map(({ values }) => values[0]));
    const comparable = perKind.some(({ values }) => values.length > 1);
    if (!noisy && comparable && representative.size > 1) oracles.push(`${feature} differs: ${perKind.map(({ kind, values }) => `${kind} → ${values[0].slice(0, 40)}`).join(', ')}`);
  }
  return oracles;
}

/** Windows of `value` long enough to identify it, skipping the public `dzk_live_` environment prefix. */
function identifyingParts(value: string, width = 10): string[] {
  const start = /^dzk_[a-z]+_/i.exec(value)?.[0].length ?? 0;
  const parts: string[] = [];
  for (let i = start; i + width <= value.length; i += 1) parts.push(value.slice(i, i + width));
  return parts;
}

/**
 * Authentication against the bug classes real servers, gateways and frameworks have shipped: near
 * misses of a real key, the key in the wrong place, hostile values, header-name case, one answer for
 * every rejection, the guard's order and coverage, and several keys per organisation. Variants that
 * exercise the key comparison are sent once each, spread over the keyed operations, to spare quota.
 */
export function attackScenarios(ops: Operation[]): Scenario[] {
  const scenarios: Scenario[] = [];
  // Probes sent to one operation only go to the cheapest: the first without a request body.
  const cheapOp = bodilessFirst(ops)[0];
  const sentValues = new Map<number, string>();

  for (const [miss, op] of rotate(kNearMisses, ops)) {
    scenarios.push(
      rejectionScenario({
        id: `attack.near-miss.${miss.slug}`,
        section: kSection,
        title: `${opName(op)}: ${miss.title} is answered 401`,
        tags: ['@auth', '@attack', ...(miss.thorough ? ['@thorough'] : [])],
        optIn: miss.thorough ? 'DYSPACH_THOROUGH' : undefined,
        check: 'nearMissRejected',
        async send(ctx) {
          const value = miss.make(ctx.target.keys.active);
          if (value === undefined) return ctx.host.skip(`the active key has no form for this variant (${miss.slug})`);
          const role = miss.slug === 'never-issued' ? 'never-issued key' : `near miss: ${miss.title}`;
          const ex = await ctx.send(ctx.probe(op, role, { role, value: derived(value, role) }));
          sentValues.set(ex.seq, value);
          return [ex];
        },
      }),
    );
  }

  for (const op of ops) {
    scenarios.push({
      id: `attack.key-placement.${op.operationId}`,
      section: kSection,
      title: `${opName(op)}: the active key everywhere but x-api-key — Authorization: Bearer, other header names, the query string, a cookie${op.exampleBody !== undefined ? ', the body' : ''} — is answered 401`,
      tags: ['@auth', '@attack'],
      checks: ['keyOnlyFromHeader'],
      async run(ctx) {
        const usable = kPlacements.filter(placement => placement.applies(op));
        const ex = await ctx.send(placedProbe(ctx, op, usable, 'active key everywhere but x-api-key'));
        const problems = expectRejected(ex, [], 'A key taken from a URL ends up in access logs and browser history; only x-api-key may carry it.');
        if (ex.status >= 200 && ex.status < 300) {
          // Only when a server fails: one request per place, to say which one it reads.
          const readFrom: string[] = [];
          for (const placement of usable) {
            const single = await ctx.send(placedProbe(ctx, op, [placement], `active key only in ${placement.where}`));
            if (single.status >= 200 && single.status < 300) readFrom.push(placement.where);
          }
          problems[0].details = [readFrom.length ? `the key was read from: ${readFrom.join('; ')}` : 'no single place alone was accepted: the server reads a combination'];
        }
        await ctx.verify('keyOnlyFromHeader', problems);
      },
    });
  }

  for (const [hostile, op] of rotate(kHostileValues, ops)) {
    scenarios.push({
      id: `attack.hostile.${hostile.slug}`,
      section: kSection,
      title: `${opName(op)}: ${hostile.title} in x-api-key is answered 401${hostile.alsoLegal ? ` (or ${hostile.alsoLegal.join(', ')}, as HTTP allows)` : ''}, never 2xx or 5xx`,
      tags: ['@auth', '@attack'],
      checks: ['hostileValueRejected'],
      async run(ctx) {
        const role = `hostile value: ${hostile.title}`;
        const ex = await ctx.send(ctx.probe(op, role, { role, value: hostile.value }, { transport: 'raw' }));
        sentValues.set(ex.seq, hostile.value);
        await ctx.verify('hostileValueRejected', expectRejected(ex, hostile.alsoLegal));
      },
    });
  }

  for (const [header, op] of rotate(['X-API-KEY', 'X-Api-Key'], bodilessFirst(ops))) {
    scenarios.push({
      id: `attack.header-case.${header}`,
      section: kSection,
      title: `${opName(op)}: the active key under the header name ${header} is served 2xx — header names are case-insensitive`,
      tags: ['@auth', '@attack'],
      checks: ['headerNameCaseInsensitive'],
      async run(ctx) {
        const ex = await ctx.send(ctx.probe(op, `active key as ${header}`, { role: 'active key', value: ctx.target.keys.active, header }, { transport: 'raw' }));
        await ctx.verify('headerNameCaseInsensitive', expectServed(ex, 'RFC 9110 §5.1: field names are case-insensitive; a server must not care how the client spells x-api-key.'));
      },
    });
  }

  scenarios.push({
    id: 'attack.repeated-header',
    section: kSection,
    title: `${opName(cheapOp)}: x-api-key sent twice, the active and the revoked key in either order, is not served`,
    tags: ['@auth', '@attack'],
    checks: ['duplicateKeyHeaderRejected'],
    async run(ctx) {
      const active = { role: 'active key', value: ctx.target.keys.active };
      const revoked = { role: 'revoked key', value: ctx.target.keys.revoked };
      const problems: Violation[] = [];
      // Servers that keep the first line and servers that keep the last are both caught by one of the orders.
      for (const [first, second] of [[active, revoked], [revoked, active]]) {
        const ex = await ctx.send(
          ctx.probe(cheapOp, `x-api-key twice: ${first.role}, then ${second.role}`, { ...first, repeat: [second] }, { transport: 'raw' }),
        );
        // RFC 9110 §5.3: repeated lines combine into "a, b", which is no active key; 400 is also a fair answer.
        if (ex.status >= 200 && ex.status < 300)
          problems.push({ summary: `served (${ex.status}) although the combined x-api-key value is not an active key`, expected: '401 (or 400)', received: received(ex), exchange: ex });
      }
      await ctx.verify('duplicateKeyHeaderRejected', problems);
    },
  });

  for (const op of ops.filter(candidate => candidate.exampleBody !== undefined)) {
    scenarios.push({
      id: `attack.auth-before-validation.${op.operationId}`,
      section: kSection,
      title: `${opName(op)}: no key and an invalid body is answered 401, not 400 — authentication comes first`,
      tags: ['@auth', '@attack'],
      checks: ['authenticationBeforeValidation'],
      async run(ctx) {
        const ex = await ctx.send({ ...ctx.probe(op, 'no key, invalid body', { role: 'no key', value: undefined }), body: { json: {} } });
        await ctx.verify('authenticationBeforeValidation', expectRejected(ex, [], 'Validation messages describe the API to callers who have not proved who they are.'));
      },
    });
  }

  for (const op of ops) {
    for (const variant of kPathVariants) {
      scenarios.push({
        id: `attack.guard-bypass.${variant.slug}.${op.operationId}`,
        section: kSection,
        title: `${opName(op)}: ${variant.title}, without a key, is never served 2xx`,
        tags: ['@auth', '@attack', ...(variant.thorough ? ['@thorough'] : [])],
        checks: ['noGuardBypass'],
        optIn: variant.thorough ? 'DYSPACH_THOROUGH' : undefined,
        async run(ctx) {
          const probe = ctx.probe(op, `no key, ${variant.label}`, { role: 'no key', value: undefined });
          const ex = await ctx.send({ ...probe, operation: undefined, path: variant.path(probe.path) });
          const served = ex.status >= 200 && ex.status < 300;
          await ctx.verify('noGuardBypass', served ? [{ summary: `served (${ex.status}) without a key`, expected: 'anything but 2xx (401, or 404 if the variant is not routed)', received: received(ex), exchange: ex }] : []);
          if (variant.slug === 'trailing-slash' && ex.status === 404)
            ctx.observe(`${probe.method} ${probe.path}/ without a key answered 404: the trailing-slash path is not routed (the contract allows either)`);
        },
      });
    }
  }
  for (const op of ops.filter(candidate => candidate.method === 'get')) {
    scenarios.push({
      id: `attack.guard-bypass.head.${op.operationId}`,
      section: kSection,
      title: `${opName(op)}: HEAD without a key is never served 2xx`,
      tags: ['@auth', '@attack'],
      checks: ['noGuardBypass'],
      async run(ctx) {
        const ex = await ctx.send({ ...ctx.probe(op, 'no key, HEAD', { role: 'no key', value: undefined }), method: 'HEAD', operation: undefined });
        const served = ex.status >= 200 && ex.status < 300;
        await ctx.verify('noGuardBypass', served ? [{ summary: `HEAD served (${ex.status}) without a key`, expected: 'anything but 2xx', received: `${ex.status} ${ex.statusText}`, exchange: ex }] : []);
      },
    });
  }

  scenarios.push({
    id: 'attack.connection-reuse',
    section: kSection,
    title: `${opName(cheapOp)}: on a connection that has just carried the active key, a request without a key and one with the revoked key are answered 401`,
    tags: ['@auth', '@attack', '@thorough'],
    checks: ['authenticationPerRequest'],
    optIn: 'DYSPACH_THOROUGH',
    async run(ctx) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const on = { transport: 'raw' as const, agent };
        const first = await ctx.send(ctx.probe(cheapOp, 'active key, opening a kept-alive connection', { role: 'active key', value: ctx.target.keys.active }, on));
        if (first.status < 200 || first.status >= 300) return ctx.host.skip(`the active key was answered ${first.status} on this operation, so the connection never carried an accepted key (see the other failures)`);
        const afterwards = [
          await ctx.send(ctx.probe(cheapOp, 'no key, same connection', { role: 'no key', value: undefined }, on)),
          await ctx.send(ctx.probe(cheapOp, 'revoked key, same connection', { role: 'revoked key', value: ctx.target.keys.revoked }, on)),
        ];
        // Only an answer that differs from the same request's answer elsewhere in the run is this clause's business.
        const plainLabel = (label: string) => label.replace(/, same connection$/, '');
        const acceptedElsewhere = (ex: Exchange) =>
          ctx.memory.find(other => other.seq !== ex.seq && plainLabel(other.label) === plainLabel(ex.label) && other.status >= 200 && other.status < 300).length > 0;
        const problems = afterwards
          .filter(ex => ex.status >= 200 && ex.status < 300 && !acceptedElsewhere(ex))
          .map(ex => ({ summary: `${ex.label}: served (${ex.status})`, expected: kDocumented401, received: received(ex), exchange: ex, hint: 'A server that trusts a connection once a key was seen on it serves whoever shares that connection (a proxy, a pool).' }));
        await ctx.verify('authenticationPerRequest', problems);
      } finally {
        agent.destroy();
      }
    },
  });

  scenarios.push({
    id: 'attack.second-key',
    section: kSection,
    title: `${opName(cheapOp)}: another active key of the same organisation is served too — an organisation may hold several keys`,
    tags: ['@auth', '@attack'],
    checks: ['everyActiveKeyAccepted'],
    needs: ['second'],
    async run(ctx) {
      const second = ctx.target.keys.second!;
      const ex = await ctx.send(ctx.probe(cheapOp, 'second active key', { role: 'second active key', value: second }));
      await ctx.verify('everyActiveKeyAccepted', expectServed(ex, `Check that DYSPACH_SECOND_API_KEY (${keyPrefix(second)}…) is active and belongs to the same organisation.`));
    },
  });

  scenarios.push({
    id: 'attack.path-variant-observation',
    section: kSection,
    title: `${opName(cheapOp)}: with the active key, a trailing-slash path may be served or not (not stated — observed only)`,
    tags: ['@auth', '@observation', '@thorough'],
    checks: [],
    optIn: 'DYSPACH_THOROUGH',
    async run(ctx) {
      const probe = ctx.probe(cheapOp, 'active key, trailing slash', { role: 'active key', value: ctx.target.keys.active });
      const ex = await ctx.send({ ...probe, operation: undefined, path: `${probe.path}/` });
      ctx.observe(`${probe.method} ${probe.path}/ with the active key answered ${ex.status} (the contract allows 200 or 404)`);
    },
  });

  scenarios.push({
    id: 'attack.one-answer',
    section: kSection,
    title: 'every rejection — missing, empty, prefix, revoked and unknown key — gets the same 401 and body, echoing nothing that was sent',
    tags: ['@auth', '@attack'],
    checks: ['rejectionsIndistinguishable', 'rejectionEchoesNothing'],
    async run(ctx) {
      const byKind = new Map<string, Exchange[]>();
      // An accepted key is not a rejection: its own check reports it, so it is left out here.
      const rejectedAs = (match: (ex: Exchange) => boolean) => (ex: Exchange) => match(ex) && (ex.status < 200 || ex.status >= 300);
      const probed = new Set<string>();
      for (const { kind, match } of kRejectionKinds) {
        if (ctx.memory.find(match).length > 0) probed.add(kind);
        byKind.set(kind, ctx.memory.find(rejectedAs(match)));
      }

      // Run on its own (e.g. with --grep), the scenario sends what it cannot reuse.
      const op = ops[0];
      const fallback: Record<string, () => Probe> = {
        'no key': () => ctx.probe(op, 'no key', { role: 'no key', value: undefined }),
        'empty key': () => ctx.probe(op, 'empty key', { role: 'empty key', value: '' }),
        'portal prefix': () => ctx.probe(op, 'portal prefix of the active key', { role: `portal prefix ${keyPrefix(ctx.target.keys.active)}`, value: keyPrefix(ctx.target.keys.active) }),
        'revoked key': () => ctx.probe(op, 'revoked key', { role: 'revoked key', value: ctx.target.keys.revoked }),
        'never-issued key': () => ctx.probe(op, 'never-issued key', { role: 'never-issued key', value: neverIssuedKey() }),
      };
      for (const [kind, list] of byKind) {
        if (probed.has(kind)) continue;
        const ex = await ctx.send(fallback[kind]());
        if (ex.status < 200 || ex.status >= 300) list.push(ex);
      }
      for (const [kind, list] of byKind) if (list.length === 0) byKind.delete(kind);

      const reference = byKind.get('never-issued key')?.[0] ?? [...byKind.values()][0]?.[0];
      if (!reference) return ctx.host.skip('every key kind was accepted, so there is no rejection to compare (see the failures of the other checks)');
      const problems: Violation[] = [];
      for (const [kind, list] of byKind) {
        for (const ex of list) {
          if (documentedFields(ex) !== documentedFields(reference))
            problems.push({
              summary: `${kind} answered differently from an unknown key`,
              expected: `as for the unknown key: ${reference.status}, body ${reference.text.slice(0, 80)}`,
              received: received(ex),
              exchange: ex,
              hint: 'A server that tells revoked or prefix keys from unknown ones tells a key hunter which guesses were once real.',
            });
        }
      }
      for (const oracle of oracleFeatures(byKind)) problems.push({ summary: oracle, hint: 'Only fields that vary per request (ids, dates) may differ between rejections.' });
      await ctx.verify('rejectionsIndistinguishable', problems);

      const echoes: Violation[] = [];
      const rejected = ctx.memory.find(ex => ex.status === 401);
      for (const ex of rejected) {
        const sent = sentValues.get(ex.seq) ?? presentedValue(ctx, ex);
        if (!sent) continue;
        const where = [ex.text, ...Object.entries(ex.headers).map(([name, value]) => `${name}: ${value}`)].join('\n');
        if (identifyingParts(sent).some(part => where.includes(part)))
          echoes.push({ summary: `the 401 to "${ex.label}" repeats part of the value that was sent`, received: 'a body or header containing a part of the presented key (not shown)', exchange: ex });
      }
      await ctx.verify('rejectionEchoesNothing', echoes);

      const header = (name: string) => (reference.headers[name] === undefined ? 'no' : 'a');
      ctx.observe(`401 carries ${header('www-authenticate')} WWW-Authenticate header and ${header('ratelimit-limit')} RateLimit-Limit header (not stated: both are legal)`);
      observeTiming(ctx, byKind);
    },
  });

  return scenarios;
}

/** The value a recorded rejection presented, when other scenarios sent it: the revoked key. (The portal prefix is public.) */
function presentedValue(ctx: ScenarioContext, ex: Exchange): string | undefined {
  return ex.keyRole === 'revoked key' ? ctx.target.keys.revoked : undefined;
}

/** 401 latency of wrong keys sharing a long prefix with the active key against ones sharing none. */
function observeTiming(ctx: ScenarioContext, byKind: Map<string, Exchange[]>): void {
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const close = ctx.memory.find(ex => ex.status === 401 && ex.keyRole.startsWith('near miss')).map(ex => ex.durationMs);
  const far = [...(byKind.get('never-issued key') ?? []), ...ctx.memory.find(ex => ex.status === 401 && ex.keyRole.startsWith('hostile value'))].map(ex => ex.durationMs);
  if (close.length === 0 || far.length === 0) return;
  ctx.observe(
    `401 latency: median ${median(close).toFixed(1)} ms for ${close.length} near miss(es) of the active key, ${median(far).toFixed(1)} ms for ${far.length} value(s) sharing no prefix with it (timing over a network is noisy: an observation, not a verdict)`,
  );
}

