import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

import { kKeyPrefixLength } from './redact';

/**
 * Looks for keys in what a run leaves behind: console captures, Playwright's HTML report (whose data
 * is a zip embedded as base64 in index.html), traces, JUnit XML, Allure results, test-results/.
 * A finding names the file and the key's role, never the key.
 */

/** A key to look for, and how findings name it ("revoked key"). */
export interface SecretToFind {
  value: string;
  role: string;
}

export interface LeakFinding {
  /** The file, relative to the scan's base; `›` separates an archive from the entry inside it. */
  file: string;
  /** Unset for a file that could not be read: a finding too, since it may hide a key. */
  role?: string;
  /** How the key appears (`plain`, `base64`, `partial: 31 characters`…), or why the file could not be read. */
  form: string;
}

/** Any run of this many characters of a key counts as a leak; each such run shows at least 8 beyond the prefix. */
export const kLeakWindow = 24;

const kAnchorLength = kLeakWindow / 2;
const kMaxDepth = 4;

interface Form {
  name: string;
  text: string;
  /** Set when letter case does not matter: the form in lower case. */
  lower?: string;
}

interface CompiledSecret {
  role: string;
  lower: string;
  forms: Form[];
  /** Substrings at multiples of 12: any window of 24 characters of the key contains one of them whole. */
  anchors: { at: number; text: string }[];
}

/**
 * The parts of `base64(x + value + y)` that do not depend on x and y, for each of the three byte
 * alignments `value` can have inside a longer encoded stream.
 */
function base64Cores(value: string, encoding: 'base64' | 'base64url'): string[] {
  const bytes = Buffer.from(value);
  const cores: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString(encoding).replace(/=+$/, '');
    const start = shift === 0 ? 0 : 4;
    const end = Math.floor((shift + bytes.length) / 3) * 4;
    if (end - start >= 16) cores.push(encoded.slice(start, end));
  }
  return cores;
}

function compile(secrets: readonly SecretToFind[]): CompiledSecret[] {
  const unique = new Map<string, string>();
  for (const secret of secrets) {
    if (secret.value.length > kKeyPrefixLength && !unique.has(secret.value)) unique.set(secret.value, secret.role);
  }

  return [...unique].map(([value, role]) => {
    const forms: Form[] = [];
    const add = (name: string, text: string, caseInsensitive: boolean) => {
      if (forms.some(form => form.text.toLowerCase() === text.toLowerCase())) return;
      forms.push({ name, text, lower: caseInsensitive ? text.toLowerCase() : undefined });
    };
    const json = JSON.stringify(value).slice(1, -1);
    add('plain', value, true);
    add('URL-encoded', encodeURIComponent(value), true);
    add('URL-encoded', encodeURI(value), true);
    add('JSON-escaped', json, true);
    // Some serialisers also write `/`, HTML-sensitive characters and anything outside ASCII as \uXXXX.
    const escape = (ch: string) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
    add('JSON-escaped', json.replace(/[^\x20-\x7e]|[/<>&']/g, escape), true);
    for (const core of base64Cores(value, 'base64')) add('base64', core, false);
    for (const core of base64Cores(value, 'base64url')) add('base64url', core, false);

    const lower = value.toLowerCase();
    const anchors: CompiledSecret['anchors'] = [];
    for (let at = 0; value.length >= kLeakWindow && at + kAnchorLength <= value.length; at += kAnchorLength)
      anchors.push({ at, text: lower.slice(at, at + kAnchorLength) });
    return { role, lower, forms, anchors };
  });
}

/** The longest run of the key's characters (letter case ignored) around a hit of one of its anchors. */
function longestRunAt(text: string, hit: number, key: string, at: number): number {
  let before = 0;
  while (before < Math.min(hit, at) && text[hit - before - 1] === key[at - before - 1]) before++;
  let after = kAnchorLength;
  while (hit + after < text.length && at + after < key.length && text[hit + after] === key[at + after]) after++;
  return before + after;
}

function findInText(text: string, secrets: CompiledSecret[], where: string, findings: LeakFinding[]): void {
  const lower = text.toLowerCase();
  for (const secret of secrets) {
    let whole = false;
    for (const form of secret.forms) {
      if (form.lower === undefined ? !text.includes(form.text) : !lower.includes(form.lower)) continue;
      const caseChanged = form.name === 'plain' && !text.includes(form.text);
      findings.push({ file: where, role: secret.role, form: caseChanged ? 'plain, letter case changed' : form.name });
      whole = true;
    }
    // A whole key found in any form also matches as a part; one finding says enough.
    if (whole) continue;

    let longest = 0;
    for (const anchor of secret.anchors) {
      for (let hit = lower.indexOf(anchor.text); hit >= 0; hit = lower.indexOf(anchor.text, hit + 1))
        longest = Math.max(longest, longestRunAt(lower, hit, secret.lower, anchor.at));
    }
    if (longest >= kLeakWindow)
      findings.push({ file: where, role: secret.role, form: `partial: ${longest} of its ${secret.lower.length} characters` });
  }
}

/** The entries of a zip archive (stored or deflated), read with Node's zlib; throws on what it cannot read. */
export function readZip(data: Buffer): { name: string; data: Buffer }[] {
  let end = -1;
  for (let at = data.length - 22; at >= Math.max(0, data.length - 22 - 0xffff); at--) {
    if (data.readUInt32LE(at) === 0x06054b50) {
      end = at;
      break;
    }
  }
  if (end < 0) throw new Error('not a complete zip archive');
  const count = data.readUInt16LE(end + 10);
  let at = data.readUInt32LE(end + 16);
  if (count === 0xffff || at === 0xffffffff) throw new Error('zip64 archives are not supported');

  const entries: { name: string; data: Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    if (data.readUInt32LE(at) !== 0x02014b50) throw new Error('damaged zip central directory');
    const method = data.readUInt16LE(at + 10);
    const compressedSize = data.readUInt32LE(at + 20);
    const nameLength = data.readUInt16LE(at + 28);
    const extraLength = data.readUInt16LE(at + 30);
    const commentLength = data.readUInt16LE(at + 32);
    const local = data.readUInt32LE(at + 42);
    const name = data.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;

    if (data.readUInt32LE(local) !== 0x04034b50) throw new Error(`damaged zip entry ${name}`);
    const start = local + 30 + data.readUInt16LE(local + 26) + data.readUInt16LE(local + 28);
    const raw = data.subarray(start, start + compressedSize);
    if (method === 0) entries.push({ name, data: raw });
    else if (method === 8) entries.push({ name, data: zlib.inflateRawSync(raw) });
    else throw new Error(`zip entry ${name} uses compression method ${method}`);
  }
  return entries;
}

/** Base64 runs that hold a zip (`UEsDB…`) or a gzip stream (`H4sI…`), such as the HTML report's data. */
function embeddedArchives(text: string): Buffer[] {
  const out: Buffer[] = [];
  for (const magic of ['UEsDB', 'H4sI']) {
    for (let hit = text.indexOf(magic); hit >= 0; hit = text.indexOf(magic, hit + 1)) {
      let end = hit;
      while (end < text.length && /[A-Za-z0-9+/_-]/.test(text[end])) end++;
      while (end < text.length && text[end] === '=') end++;
      if (end - hit >= 32) out.push(Buffer.from(text.slice(hit, end), 'base64'));
      hit = end;
    }
  }
  return out;
}

function scanBytes(
  data: Buffer,
  secrets: CompiledSecret[],
  where: string,
  depth: number,
  findings: LeakFinding[],
  embedded = false,
): void {
  if (depth > kMaxDepth) {
    findings.push({ file: where, form: 'archives nested too deep to scan' });
    return;
  }
  try {
    if (data.length >= 4 && data.readUInt32LE(0) === 0x04034b50) {
      for (const entry of readZip(data)) {
        findInText(entry.name, secrets, `${where} › ${entry.name}`, findings);
        scanBytes(entry.data, secrets, `${where} › ${entry.name}`, depth + 1, findings);
      }
      return;
    }
    if (data.length >= 3 && data[0] === 0x1f && data[1] === 0x8b && data[2] === 0x08) {
      scanBytes(zlib.gunzipSync(data), secrets, `${where} › (gzip)`, depth + 1, findings);
      return;
    }
  } catch (error) {
    // A file that is a damaged archive may hide a key; a base64 run that merely starts like one is text.
    if (!embedded) {
      findings.push({ file: where, form: `could not be read: ${(error as Error).message}` });
      return;
    }
  }

  // latin1 maps each byte to one character, so ASCII keys are found whatever the file's encoding.
  const text = data.toString('latin1');
  findInText(text, secrets, where, findings);
  for (const archive of embeddedArchives(text))
    scanBytes(archive, secrets, `${where} › (embedded archive)`, depth + 1, findings, true);
}

function dedupe(findings: LeakFinding[]): LeakFinding[] {
  const seen = new Set<string>();
  return findings.filter(finding => {
    const id = `${finding.file}\0${finding.role}\0${finding.form}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** Looks for `secrets` in one buffer; `where` names it in findings. */
export function scanBuffer(data: Buffer, secrets: readonly SecretToFind[], where: string): LeakFinding[] {
  const findings: LeakFinding[] = [];
  scanBytes(data, compile(secrets), where, 0, findings);
  return dedupe(findings);
}

/**
 * Looks for `secrets` in every file under each of `roots` (a root may also be a single file),
 * including inside zip and gzip archives and base64-embedded ones. Symbolic links are not followed.
 *
 * @example
 * const findings = scanFiles(['reports'], [{ value: key, role: 'active key' }]);
 * for (const finding of findings) console.error(describeFinding(finding));
 */
export function scanFiles(roots: readonly string[], secrets: readonly SecretToFind[], base = process.cwd()) {
  const compiled = compile(secrets);
  const findings: LeakFinding[] = [];
  const visited = new Set<string>();
  const visit = (file: string) => {
    const resolved = path.resolve(file);
    if (visited.has(resolved)) return;
    visited.add(resolved);
    const where = path.relative(base, resolved) || resolved;
    const unreadable = (error: unknown) => {
      // A file deleted while the scan runs held nothing that stays behind.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      findings.push({ file: where, form: `could not be read: ${(error as Error).message}` });
    };
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(resolved);
    } catch {
      return;
    }
    if (stat.isDirectory()) {
      let names: string[] = [];
      try {
        names = fs.readdirSync(resolved).sort();
      } catch (error) {
        unreadable(error);
      }
      for (const name of names) visit(path.join(resolved, name));
      return;
    }
    if (!stat.isFile()) return;
    let data: Buffer;
    try {
      data = fs.readFileSync(resolved);
    } catch (error) {
      unreadable(error);
      return;
    }
    scanBytes(data, compiled, where, 0, findings);
  };
  for (const root of roots) visit(root);
  return dedupe(findings);
}

/** One line per finding: `Leak check: reports/junit.xml contains the revoked key (plain)`. */
export function describeFinding(finding: LeakFinding): string {
  return finding.role
    ? `Leak check: ${finding.file} contains the ${finding.role} (${finding.form})`
    : `Leak check: ${finding.file} ${finding.form}; it may hide a key, so check or delete it`;
}
