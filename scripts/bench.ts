import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

/**
 * `npm run bench`: how long the suite takes on this machine, measured against a yardstick — a bare
 * Playwright run that makes one API request — so that the numbers mean the same on a laptop and on
 * a CI runner. Aims, not assertions: the default run within 2x the yardstick, the self-test within
 * two minutes. Every run talks only to servers on 127.0.0.1 that it starts itself.
 */

const kRoot = path.join(__dirname, '..');
const kAimRatio = 2;
const kAimSelfTestSeconds = 120;

const kHelp = [
  'Usage: npm run bench -- [--repeat N]',
  '',
  'Times, on this machine and in one go:',
  '  1. the default suite against the embedded local sandbox',
  '     (npx playwright test, with DYSPACH_ENV_FILE=none)',
  '  2. the whole self-test (npx playwright test -c playwright.self.config.ts)',
  '  3. the yardstick: a bare Playwright run of one API request to a local node:http server',
  'and prints each in seconds and as a multiple of the yardstick, with the default run\'s request count.',
  'Reports of the default run go to a temporary folder; ./reports is left as it was.',
  '',
  'Options:',
  '  --repeat N   run each N times (1 to 20, default 1) and report the median',
  '  -h, --help   show this help',
].join('\n');

interface Subject {
  label: string;
  args: string[];
  env?: Record<string, string>;
}

interface Run {
  seconds: number;
  code: number | null;
  output: string;
}

class UsageError extends Error {}

function readRepeat(args: string[]): number | 'help' {
  let values: { repeat?: string; help?: boolean };
  try {
    values = parseArgs({
      args,
      options: { repeat: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
      strict: true,
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
  if (values.help) return 'help';

  const raw = values.repeat ?? '1';
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 20)
    throw new UsageError(`--repeat must be a whole number from 1 to 20; found "${raw}".`);
  return Number(raw);
}

/** The environment of a measured run: none of the caller's DYSPACH_* settings, no colour codes. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0' };
  for (const name of Object.keys(env)) if (name.startsWith('DYSPACH_')) delete env[name];
  return { ...env, ...extra };
}

function timeRun(subject: Subject): Promise<Run> {
  const started = performance.now();
  const child = spawn('npx', subject.args, {
    cwd: kRoot,
    env: childEnv(subject.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', chunk => (output += String(chunk)));
  child.stderr.on('data', chunk => (output += String(chunk)));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', code => {
      resolve({ seconds: (performance.now() - started) / 1000, code, output });
    });
  });
}

/** A throwaway Playwright project: one test that starts a node:http server and sends it one request. */
function writeYardstick(dir: string): string {
  const playwright = JSON.stringify(require.resolve('@playwright/test', { paths: [kRoot] }));
  const config = path.join(dir, 'playwright.config.ts');
  fs.writeFileSync(
    config,
    [
      `import { defineConfig } from ${playwright};`,
      '',
      'export default defineConfig({',
      "  testDir: '.',",
      "  outputDir: './test-results',",
      '  workers: 1,',
      "  reporter: 'list',",
      '});',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    path.join(dir, 'one-request.spec.ts'),
    [
      "import http from 'node:http';",
      "import type { AddressInfo } from 'node:net';",
      '',
      `import { expect, test } from ${playwright};`,
      '',
      "test('one API request', async ({ request }) => {",
      '  const server = http.createServer((_req, res) => {',
      "    res.setHeader('content-type', 'application/json').end('{}');",
      '  });',
      "  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));",
      '  const { port } = server.address() as AddressInfo;',
      '',
      '  const response = await request.get(`http://127.0.0.1:${port}/`);',
      '',
      '  expect(response.status()).toBe(200);',
      '  server.closeAllConnections();',
      '  server.close();',
      '});',
      '',
    ].join('\n'),
  );
  return config;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The lines of a run's output that say how it ended: Playwright's counts and the suite's verdicts. */
function endingLines(output: string): string[] {
  const lines = output.split('\n').map(line => line.trim()).filter(Boolean);
  const ending = /^\d+ (failed|flaky|interrupted|did not run)\b|^VERDICT|^Self-test:|^Leak check/;
  const verdicts = lines.filter(line => ending.test(line));
  return (verdicts.length > 0 ? verdicts : lines).slice(-5);
}

function machine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() || 'unknown CPU';
  return `${os.platform()} ${os.arch()}, ${cpus.length} × ${model}, Node ${process.version}`;
}

function summarize(subjects: Subject[], runs: Run[][], repeat: number): string[] {
  const seconds = runs.map(list => median(list.map(run => run.seconds)));
  const [suite, selfTest, yardstick] = seconds;
  const ratio = (value: number) => (value / yardstick).toFixed(2);
  const requests = /Requests sent to the target: (\d+)/.exec(runs[0].at(-1)!.output)?.[1];
  const notes = [requests === undefined ? 'request count not in its output' : `${requests} requests`, '', ''];
  const width = Math.max(...subjects.map(subject => subject.label.length));
  const row = (cells: string[]) =>
    `  ${cells[0].padEnd(width)}  ${cells[1].padStart(7)}  ${cells[2].padStart(11)}  ${cells[3]}`.trimEnd();
  const verdict = (met: boolean) => (met ? 'met' : 'missed');

  const lines = [
    '',
    `Bench: ${repeat === 1 ? 'one run each' : `median of ${repeat} runs each`}, on ${machine()}`,
    '',
    row(['run', 'seconds', 'x yardstick', '']),
    ...subjects.map((subject, i) => row([subject.label, seconds[i].toFixed(2), ratio(seconds[i]), notes[i]])),
    '',
    'Aims (not asserted):',
    `  default run within ${kAimRatio}x the yardstick: ${verdict(suite / yardstick <= kAimRatio)} (${ratio(suite)}x)`,
    `  self-test within ${kAimSelfTestSeconds / 60} minutes: ${verdict(selfTest <= kAimSelfTestSeconds)} ` +
      `(${selfTest.toFixed(1)} s)`,
  ];
  for (const [i, subject] of subjects.entries()) {
    for (const run of runs[i].filter(candidate => candidate.code !== 0)) {
      lines.push('', `Note: a run of the ${subject.label} failed (exit ${run.code}); its time is a failing run's.`);
      lines.push('It ended:', ...endingLines(run.output).map(line => `  | ${line}`));
    }
  }
  return lines;
}

async function main(): Promise<number> {
  let repeat: number | 'help';
  try {
    repeat = readRepeat(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\nRun \`npm run bench -- --help\` for the options.\n`);
    return 2;
  }
  if (repeat === 'help') {
    process.stdout.write(`${kHelp}\n`);
    return 0;
  }

  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'dyspach-bench-'));
  const subjects: Subject[] = [
    {
      label: 'default suite against the local sandbox',
      args: ['playwright', 'test'],
      env: { DYSPACH_ENV_FILE: 'none', DYSPACH_REPORTS_DIR: path.join(scratch, 'reports') },
    },
    {
      label: 'self-test (playwright.self.config.ts)',
      args: ['playwright', 'test', '-c', 'playwright.self.config.ts'],
    },
    {
      label: 'yardstick: one request, bare Playwright',
      args: ['playwright', 'test', '-c', writeYardstick(scratch)],
    },
  ];
  const runs: Run[][] = subjects.map(() => []);
  try {
    // In the order listed, round after round: the first run pays for a cold disk cache, if anyone does.
    for (let round = 1; round <= repeat; round++) {
      for (const [i, subject] of subjects.entries()) {
        const run = await timeRun(subject);
        runs[i].push(run);
        const counter = repeat > 1 ? `[${round}/${repeat}] ` : '';
        const status = run.code === 0 ? '' : ` (exit ${run.code})`;
        process.stderr.write(`  ${counter}${subject.label}: ${run.seconds.toFixed(2)} s${status}\n`);
      }
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }

  process.stdout.write(`${summarize(subjects, runs, repeat).join('\n')}\n`);
  return 0;
}

main().then(
  code => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`bench: ${error.message}\n`);
    process.exitCode = 1;
  },
);
