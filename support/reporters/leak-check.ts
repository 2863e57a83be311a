import path from 'node:path';

import type { FullConfig, FullResult, Reporter, TestCase, TestError, TestResult } from '@playwright/test/reporter';

import { createSandbox } from '../../sandbox/app';
import { kSelfTestSeed } from '../../sandbox/keys';
import { describeFinding, scanBuffer, scanFiles, type LeakFinding, type SecretToFind } from '../leak-check';
import { registeredSecrets } from '../redact';
import { runState } from '../run-state';
import { configuredSecrets, kKeyRoles } from '../settings';

interface Options {
  /** Folders (or files) to scan besides every project's outputDir; default `reports/` beside the config. */
  dirs?: string[];
}

/**
 * Runs last: once the HTML, JUnit and Allure reporters have written their files, looks in them, in
 * every project's outputDir and in what the tests printed for each key of this run, and fails the run
 * with one line per finding. Keys of the self-test's seeded sandboxes are looked for as well.
 */
export default class LeakCheckReporter implements Reporter {
  private roots: string[] = [];
  private readonly captured = new Map<string, Buffer[]>();

  constructor(private readonly options: Options = {}) {}

  onBegin(config: FullConfig): void {
    const configDir = config.configFile ? path.dirname(config.configFile) : config.rootDir;
    const dirs = this.options.dirs ?? ['reports'];
    const outputDirs = config.projects.map(project => project.outputDir);
    this.roots = [...dirs.map(dir => path.resolve(configDir, dir)), ...outputDirs];
  }

  onStdOut(chunk: string | Buffer, test?: TestCase): void {
    this.capture(test ? `the console output of "${test.title}"` : 'the console output of a worker', chunk);
  }

  onStdErr(chunk: string | Buffer, test?: TestCase): void {
    this.onStdOut(chunk, test);
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    for (const error of result.errors) this.capture(`the error of "${test.title}"`, errorText(error));
  }

  onError(error: TestError): void {
    this.capture('an error reported by the run', errorText(error));
  }

  async onEnd(_result: FullResult): Promise<{ status: FullResult['status'] } | undefined> {
    const secrets = secretsOfThisRun();
    const findings: LeakFinding[] = scanFiles(this.roots, secrets);
    for (const [where, chunks] of this.captured) findings.push(...scanBuffer(Buffer.concat(chunks), secrets, where));

    runState.leakFindings = findings.length;
    if (findings.length === 0) return undefined;
    const where = findings.length === 1 ? 'a key was found' : `keys were found in ${findings.length} places`;
    const lines = [
      '',
      ...findings.map(describeFinding),
      `Leak check failed: ${where} in what this run left behind.`,
      'Do not publish these reports; delete them, find what printed the key, and if they were shared, revoke the key.',
    ];
    if (findings.some(finding => /trace/i.test(finding.file)))
      lines.push('Playwright traces record request headers, keys included: run without --trace (the config keeps tracing off).');
    process.stdout.write(`${lines.join('\n')}\n`);
    return { status: 'failed' };
  }

  printsToStdio(): boolean {
    return false;
  }

  private capture(where: string, chunk: string | Buffer): void {
    const list = this.captured.get(where) ?? [];
    list.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    this.captured.set(where, list);
  }
}

function errorText(error: TestError): string {
  return [error.message, error.stack, error.value].filter(Boolean).join('\n');
}

/** The keys registered in this (the runner) process, the configured ones, and those of the self-test's sandboxes. */
export function secretsOfThisRun(): SecretToFind[] {
  const seeded = createSandbox({ keySeed: kSelfTestSeed }).credentials.keys;
  return [
    ...registeredSecrets().map(secret => ({ value: secret.value, role: secret.label })),
    ...configuredSecrets(),
    ...(Object.keys(seeded) as (keyof typeof seeded)[]).map(name => ({
      value: seeded[name],
      role: `self-test sandbox's ${kKeyRoles[name]}`,
    })),
  ];
}
