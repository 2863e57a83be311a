import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

import { expect, test } from '@playwright/test';

import { startSandbox } from '../../sandbox/start';
import { describeFinding, readZip, scanFiles, type SecretToFind } from '../../support/leak-check';
import { kSelfTestSeed } from './harness';
import { keysIn, kSeeded, runSuiteProcess, seededTarget } from './suite-process';

/**
 * The leak check fails on a folder seeded with a key in each form a report can hold it in — inside
 * the HTML report's embedded zip too — and passes on a clean one. Its findings name the file and
 * the key's role, never the key. Seeded folders live in the system's temporary folder, not reports/.
 */

const kActive = kSeeded.keys.active;
// Characters that URL-encoding and JSON escaping change: a key body the documentation does not rule out.
const kSpecial = `dzk_live_${'q7+/Z"x?'.repeat(8)}`;
const kSecrets: SecretToFind[] = [
  { value: kActive, role: 'active key' },
  { value: kSpecial, role: 'revoked key' },
];

/** A zip archive as Playwright writes them (deflated entries), built with Node's zlib. */
function makeZip(entries: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(entries)) {
    const data = Buffer.from(text);
    const deflated = zlib.deflateRawSync(data);
    const fileName = Buffer.from(name);
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(8, 8);
    header.writeUInt32LE(zlib.crc32(data), 14);
    header.writeUInt32LE(deflated.length, 18);
    header.writeUInt32LE(data.length, 22);
    header.writeUInt16LE(fileName.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(zlib.crc32(data), 16);
    central.writeUInt32LE(deflated.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(fileName.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(header, fileName, deflated);
    centrals.push(central, fileName);
    offset += header.length + fileName.length + deflated.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** An index.html as Playwright's HTML reporter writes it: the report's data is a zip, base64 in a template. */
function htmlReport(entries: Record<string, string>): string {
  const data = `data:application/zip;base64,${makeZip(entries).toString('base64')}`;
  return `<!DOCTYPE html><html><body><div id="root"></div><template id="playwrightReportBase64">${data}</template></body></html>`;
}

function seededFolder(files: Record<string, string | Buffer>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dyspach-leak-'));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

function scan(files: Record<string, string | Buffer>): string[] {
  const dir = seededFolder(files);
  try {
    return scanFiles([dir], kSecrets, dir).map(describeFinding);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const kSeededLeaks: { form: string; files: Record<string, string | Buffer>; finding: string }[] = [
  {
    form: 'plain, in JUnit XML',
    files: { 'junit.xml': `<testsuite><system-out>x-api-key: ${kActive}</system-out></testsuite>` },
    finding: 'Leak check: junit.xml contains the active key (plain)',
  },
  {
    form: 'plain with its letter case changed, in a console capture',
    files: { 'stdout.txt': `sent ${kActive.toUpperCase()}\n` },
    finding: 'Leak check: stdout.txt contains the active key (plain, letter case changed)',
  },
  {
    form: 'URL-encoded, in an error message',
    files: { 'error-context.md': `GET /v1/org/quote/getQuote?api_key=${encodeURIComponent(kSpecial)} failed` },
    finding: 'Leak check: error-context.md contains the revoked key (URL-encoded)',
  },
  {
    form: 'base64, inside a longer base64 attachment',
    files: { 'attachment.txt': Buffer.from(`{"headers":{"x-api-key":"${kActive}"}}`).toString('base64') },
    finding: 'Leak check: attachment.txt contains the active key (base64)',
  },
  {
    form: 'base64url, inside a longer base64url value',
    files: { 'cookie.txt': `session=${Buffer.from(`k=${kSpecial};`).toString('base64url')}` },
    finding: 'Leak check: cookie.txt contains the revoked key (base64url)',
  },
  {
    form: 'JSON-escaped, in an Allure result',
    files: { 'allure-results/1-result.json': JSON.stringify({ statusDetails: { message: `sent ${kSpecial}` } }) },
    finding: 'Leak check: allure-results/1-result.json contains the revoked key (JSON-escaped)',
  },
  {
    form: '24 characters beyond the prefix, in a step title',
    files: { 'steps.txt': `POST /v1 — key …${kActive.slice(30, 54)}…` },
    finding: 'Leak check: steps.txt contains the active key (partial: 24 of its 73 characters)',
  },
  {
    form: 'the prefix and 8 more characters',
    files: { 'steps.txt': `key ${kActive.slice(0, 24)}…` },
    finding: 'Leak check: steps.txt contains the active key (partial: 24 of its 73 characters)',
  },
  {
    form: 'plain, inside the HTML report\'s embedded zip',
    files: {
      'html/index.html': htmlReport({ 'report.json': '{"files":[]}', 'abc123.json': JSON.stringify({ error: `x-api-key: ${kActive}` }) }),
    },
    finding: 'Leak check: html/index.html › (embedded archive) › abc123.json contains the active key (plain)',
  },
  {
    form: 'plain, inside a trace archive copied to the HTML report',
    files: {
      'html/data/0a1b.zip': makeZip({ '0-trace.network': JSON.stringify({ request: { headers: [{ name: 'x-api-key', value: kActive }] } }) }),
    },
    finding: 'Leak check: html/data/0a1b.zip › 0-trace.network contains the active key (plain)',
  },
  {
    form: 'plain, inside a gzip stream',
    files: { 'log.gz': zlib.gzipSync(`x-api-key: ${kActive}`) },
    finding: 'Leak check: log.gz › (gzip) contains the active key (plain)',
  },
];

test.describe('the leak check fails on a folder seeded with a key', () => {
  for (const leak of kSeededLeaks) {
    test(`${leak.form}`, () => {
      const findings = scan(leak.files);

      expect(findings).toEqual([leak.finding]);
      expect(keysIn(findings.join('\n'), kSecrets)).toEqual([]);
    });
  }

  test('and on an archive it cannot read, which may hide one', () => {
    const truncated = makeZip({ 'a.json': `x-api-key: ${kActive}` }).subarray(0, 60);

    expect(scan({ 'data/trace.zip': truncated })).toEqual([
      'Leak check: data/trace.zip could not be read: not a complete zip archive; it may hide a key, so check or delete it',
    ]);
  });

  test('and names each file and key once per form, whatever the number of occurrences', () => {
    const findings = scan({ 'a.txt': `${kActive} ${kActive} ${kSpecial}`, 'b/c.txt': `${kActive}` });

    expect(findings).toEqual([
      'Leak check: a.txt contains the active key (plain)',
      'Leak check: a.txt contains the revoked key (plain)',
      'Leak check: b/c.txt contains the active key (plain)',
    ]);
  });
});

test.describe('the leak check passes on a clean folder', () => {
  test('with the 16-character prefix, redacted keys, other keys and a clean HTML report', () => {
    const other = `dzk_live_${'Z'.repeat(64)}`;
    const prefix = kActive.slice(0, 16);

    const findings = scan({
      'junit.xml': `<system-out>x-api-key = active key (${prefix}…), ${prefix}…‹redacted› ${kActive.slice(0, 23)}</system-out>`,
      'other.txt': `${other} ${Buffer.from(other).toString('base64')}`,
      'html/index.html': htmlReport({ 'report.json': JSON.stringify({ title: `prefix ${kActive.slice(0, 16)}` }) }),
      'html/data/trace.zip': makeZip({ '0-trace.network': '{"headers":[]}' }),
      // Text that merely starts like a base64 zip is not a damaged archive.
      'html/report.js': `const magic = "UEsDB${'A'.repeat(60)}";`,
    });

    expect(findings).toEqual([]);
  });

  test('reads the zip archives it writes, as it reads Playwright\'s', () => {
    const entries = readZip(makeZip({ 'a.txt': 'one', 'b/c.txt': 'two' }));

    expect(entries.map(entry => `${entry.name}=${entry.data}`)).toEqual(['a.txt=one', 'b/c.txt=two']);
  });
});

test('a run with --trace on is failed by the leak check, which finds the key in the traces', async () => {
  const sandbox = await startSandbox({ keySeed: kSelfTestSeed });
  // Outside reports/: this run's traces hold the seeded keys, and the folder is deleted afterwards.
  const reportsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dyspach-trace-'));

  try {
    const args = ['--trace', 'on', '-g', 'revoked key is answered 401 with the documented body'];

    const run = await runSuiteProcess(seededTarget(sandbox.url), reportsDir, args);

    expect(run.code, run.output).not.toBe(0);
    expect(run.output).toContain('2 passed');
    expect(run.output).toMatch(/Leak check: \S+\/test-results\/[^\n]+\/trace\.zip › [^\n]+ contains the revoked key \(plain\)/);
    expect(run.output).toMatch(/Leak check: \S+\/html\/data\/[0-9a-f]+\.zip › [^\n]+ contains the revoked key \(plain\)/);
    expect(run.output).toContain('Playwright traces record request headers, keys included: run without --trace');
    expect(run.output).toMatch(/VERDICT: DON'T SHIP, because:\n {2}- the run's reports hold a key \(\d+ findings/);
    expect(keysIn(run.output)).toEqual([]);
  } finally {
    await sandbox.close();
    fs.rmSync(reportsDir, { recursive: true, force: true });
  }
});
