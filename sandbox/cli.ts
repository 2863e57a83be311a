import { parseArgs } from 'node:util';

import { closestMatch } from '../support/settings';
import { kOrganisations } from './data';
import { isFaultName, kFaults } from './faults';
import { startSandbox, type RunningSandbox } from './start';

/**
 * `npm run sandbox`: the embedded sandbox as a long-running local server, for a developer who builds
 * an integration offline or wants to point the suite at a server they can watch. It binds 127.0.0.1
 * only. Unlike everything else in this project it prints the keys: they are what a developer needs,
 * they are made afresh at each start, and they open nothing but this process.
 */

class UsageError extends Error {}

const kHelp = [
  'Usage: npm run sandbox -- [options]',
  '',
  'Starts the embedded Dyspach sandbox on 127.0.0.1 and prints its base URL, its keys, the customer ids',
  'of its two organisations and its rate limit, then serves until Ctrl-C.',
  '',
  'The keys are printed on purpose: this command is for building an integration offline against a',
  'local imitation of the API. They are new at every start, work only against this process, and are',
  'not Dyspach keys. Nothing else in this project prints a key.',
  '',
  'Options:',
  '  --port N             port to listen on (default 0: any free port)',
  '  --base-path PATH     serve the API under a path prefix, e.g. /sandbox (default: none)',
  '  --fault NAME         switch on a named fault that breaks one clause of the contract;',
  '                       repeat it (or separate names with commas) for several',
  '  --choices KIND       documented (default), or alternative: the other legal answers where the',
  '                       contract is silent (WWW-Authenticate on 401, extra fields, path variants)',
  '  --rate-limit N       requests per organisation per window (default 60)',
  '  --window-seconds N   length of the fixed rate-limit window in seconds (default 60)',
  '  --list-faults        list the faults and what each imitates, then exit',
  '  -h, --help           show this help, then exit',
  '',
  'Exit codes: 0 stopped by Ctrl-C or SIGTERM, 1 could not start, 2 bad arguments.',
  '',
  'Example:',
  '  npm run sandbox -- --base-path /sandbox --fault acceptRevokedKey',
].join('\n');

const kOptions = {
  'port': { type: 'string' },
  'base-path': { type: 'string' },
  'fault': { type: 'string', multiple: true },
  'choices': { type: 'string' },
  'rate-limit': { type: 'string' },
  'window-seconds': { type: 'string' },
  'list-faults': { type: 'boolean' },
  'help': { type: 'boolean', short: 'h' },
} as const;

interface CliOptions {
  port: number;
  basePath: string;
  faults: string[];
  choices: 'documented' | 'alternative';
  rateLimit: number;
  windowSeconds: number;
}

function readInteger(option: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max)
    throw new UsageError(`--${option} must be a whole number from ${min} to ${max}; found "${raw}".`);
  return Number(raw);
}

function readBasePath(raw: string | undefined): string {
  if (raw === undefined) return '';
  const trimmed = raw.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(trimmed)) {
    throw new UsageError(
      `--base-path must be a path such as /sandbox or /api/sandbox (letters, digits, . _ ~ -); found "${raw}".`,
    );
  }
  return trimmed;
}

function readFaults(raw: string[] | undefined): string[] {
  const names = (raw ?? []).flatMap(value => value.split(',')).map(name => name.trim()).filter(Boolean);
  const known = Object.keys(kFaults);
  for (const name of names) {
    if (isFaultName(name)) continue;
    const suggestion = closestMatch(name, known);
    throw new UsageError(
      [
        `unknown fault "${name}".${suggestion ? ` Did you mean "${suggestion}"?` : ''}`,
        'Valid faults:',
        ...wrap(known, 100, '  '),
        '`npm run sandbox -- --list-faults` says what each one imitates.',
      ].join('\n'),
    );
  }
  return [...new Set(names)];
}

/** Lays `words` out in comma-separated lines no wider than `width`. */
function wrap(words: string[], width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const [i, word] of words.entries()) {
    const piece = `${word}${i < words.length - 1 ? ',' : '.'}`;
    if (line && indent.length + line.length + 1 + piece.length > width) {
      lines.push(`${indent}${line}`);
      line = piece;
    } else {
      line = line ? `${line} ${piece}` : piece;
    }
  }
  if (line) lines.push(`${indent}${line}`);
  return lines;
}

/** Turns parseArgs' own errors into one line that names the option and the fix. */
function explainParseError(error: Error & { code?: string }): UsageError {
  const unknown = /Unknown option '([^']+)'/.exec(error.message)?.[1];
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
    const names = Object.keys(kOptions).map(name => `--${name}`);
    const suggestion = closestMatch(unknown, names);
    return new UsageError(`unknown option ${unknown}.${suggestion ? ` Did you mean ${suggestion}?` : ''}`);
  }
  const positional = /Unexpected argument '([^']*)'/.exec(error.message)?.[1];
  if (error.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' && positional !== undefined)
    return new UsageError(`unexpected argument "${positional}"; every setting is an option, e.g. --port 8080.`);
  const missing = /Option '(?:-\w, )?(--[\w-]+)(?: <value>)?' argument (missing|is ambiguous)/.exec(error.message)?.[1];
  if (missing) return new UsageError(`${missing} needs a value, e.g. ${missing} ${exampleValue(missing)}.`);
  const flag = /Option '(?:-\w, )?(--[\w-]+)' does not take an argument/.exec(error.message)?.[1];
  if (flag) return new UsageError(`${flag} takes no value.`);
  return new UsageError(error.message.split('\n')[0]);
}

function exampleValue(option: string): string {
  const examples: Record<string, string> = {
    '--port': '8080',
    '--base-path': '/sandbox',
    '--fault': 'acceptRevokedKey',
    '--choices': 'alternative',
    '--rate-limit': '60',
    '--window-seconds': '60',
  };
  return examples[option] ?? 'VALUE';
}

type Parsed = { kind: 'help' } | { kind: 'list-faults' } | { kind: 'serve'; options: CliOptions };

export function parseCommandLine(args: string[]): Parsed {
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof kOptions }>>['values'];
  try {
    values = parseArgs({ args, options: kOptions, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw explainParseError(error as Error);
  }
  if (values.help) return { kind: 'help' };
  if (values['list-faults']) return { kind: 'list-faults' };

  const choices = values.choices ?? 'documented';
  if (choices !== 'documented' && choices !== 'alternative') {
    const suggestion = closestMatch(choices, ['documented', 'alternative']);
    const hint = suggestion ? ` Did you mean "${suggestion}"?` : '';
    throw new UsageError(`--choices must be "documented" or "alternative"; found "${choices}".${hint}`);
  }

  return {
    kind: 'serve',
    options: {
      port: readInteger('port', values.port, 0, 0, 65535),
      basePath: readBasePath(values['base-path']),
      faults: readFaults(values.fault),
      choices,
      rateLimit: readInteger('rate-limit', values['rate-limit'], 60, 1, 100000),
      windowSeconds: readInteger('window-seconds', values['window-seconds'], 60, 1, 3600),
    },
  };
}

function listFaults(): string {
  const names = Object.keys(kFaults) as (keyof typeof kFaults)[];
  const width = Math.max(...names.map(name => name.length));
  return [
    'Faults of the embedded sandbox; each breaks one clause of the contract the way a real server has.',
    '',
    ...names.map(name => `  ${name.padEnd(width)}  ${kFaults[name].imitates}`),
    '',
    'Switch one on with --fault NAME; the suite run against it should then fail.',
  ].join('\n');
}

/** Quotes a value for a POSIX shell only when it needs it; sandbox keys and URLs never do. */
function shellValue(value: string): string {
  return /^[A-Za-z0-9_./:,@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function describeRunning(sandbox: RunningSandbox, options: CliOptions): string {
  const { keys, customerIds, otherOrgCustomerId } = sandbox.credentials;
  const [acme, globex] = kOrganisations;
  const suiteEnv: [string, string][] = [
    ['DYSPACH_BASE_URL', sandbox.url],
    ['DYSPACH_API_KEY', keys.active],
    ['DYSPACH_REVOKED_API_KEY', keys.revoked],
    ['DYSPACH_CUSTOMER_ID', customerIds.join(',')],
    ['DYSPACH_SECOND_API_KEY', keys.second],
    ['DYSPACH_OTHER_ORG_API_KEY', keys.otherOrg],
    ['DYSPACH_OTHER_ORG_CUSTOMER_ID', otherOrgCustomerId],
    ['DYSPACH_ENV_FILE', 'none'],
  ];
  const faults = options.faults.length > 0
    ? `${options.faults.join(', ')} (the suite is expected to fail against it)`
    : 'none';

  return [
    `Dyspach sandbox listening on ${sandbox.url}`,
    'Keys are printed below on purpose, for building an integration offline. They are new at every start',
    'and work only against this process.',
    '',
    `${acme.name} (${acme.id})`,
    `  customer ids      ${customerIds.join(', ')}`,
    `  active key        ${keys.active}`,
    `  second key        ${keys.second}`,
    `  revoked key       ${keys.revoked}`,
    `${globex.name} (${globex.id})`,
    `  customer ids      ${Object.keys(globex.customers).join(', ')}`,
    `  active key        ${keys.otherOrg}`,
    '',
    `Rate limit: ${options.rateLimit} requests per organisation, across all of its keys, in a fixed ` +
      `${options.windowSeconds}-second window.`,
    `Faults: ${faults}. Choices: ${options.choices}.`,
    '',
    'Point the conformance suite at it:',
    `  ${suiteEnv.map(([name, value]) => `${name}=${shellValue(value)}`).join(' ')} npx playwright test`,
    '',
    // npm's shell does not pass a signal sent to npm itself on to this process.
    `Ctrl-C stops it, or \`kill ${process.pid}\` (this process, not npm's).`,
    '',
  ].join('\n');
}

function describeStartFailure(error: NodeJS.ErrnoException, port: number): string {
  if (error.code === 'EADDRINUSE')
    return `port ${port} on 127.0.0.1 is in use. Choose another with --port, or --port 0 for any free port.`;
  if (error.code === 'EACCES')
    return `port ${port} on 127.0.0.1 needs privileges this process lacks. Choose a port above 1023, or --port 0.`;
  return `could not start the sandbox: ${error.message}`;
}

async function main(args: string[]): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseCommandLine(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`sandbox: ${error.message}\nRun \`npm run sandbox -- --help\` for the options.\n`);
    return 2;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(`${kHelp}\n`);
    return 0;
  }
  if (parsed.kind === 'list-faults') {
    process.stdout.write(`${listFaults()}\n`);
    return 0;
  }

  const { options } = parsed;
  let sandbox: RunningSandbox;
  try {
    sandbox = await startSandbox({
      port: options.port,
      basePath: options.basePath,
      faults: options.faults,
      choices: options.choices,
      rateLimit: options.rateLimit,
      windowSeconds: options.windowSeconds,
    });
  } catch (error) {
    process.stderr.write(`sandbox: ${describeStartFailure(error as NodeJS.ErrnoException, options.port)}\n`);
    return 1;
  }
  process.stdout.write(describeRunning(sandbox, options));

  return new Promise<number>(resolve => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      // A second Ctrl-C while connections drain means "now".
      if (stopping) process.exit(130);
      stopping = true;
      setTimeout(() => process.exit(1), 5000).unref();
      void sandbox.close().then(() => {
        process.stderr.write(`Sandbox stopped (${signal}).\n`);
        resolve(0);
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    code => {
      process.exitCode = code;
    },
    (error: Error) => {
      process.stderr.write(`sandbox: ${error.message}\n`);
      process.exitCode = 1;
    },
  );
}
