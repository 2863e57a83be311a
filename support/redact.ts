/**
 * Every key the suite holds is registered here with a label ("revoked key"). Anything the suite
 * writes — step titles, attachments, error messages, debug lines — passes through `redact()` first,
 * so a key never leaves the process even when a server echoes it back.
 */

export const kKeyPrefixLength = 16;

interface Secret {
  value: string;
  label: string;
}

const secrets: Secret[] = [];

/** Forms in which a value can appear in text: plain, URL-encoded, base64 and JSON-escaped. */
export function encodedForms(value: string): string[] {
  const forms = new Set<string>([value]);
  forms.add(encodeURIComponent(value));
  forms.add(encodeURI(value));
  forms.add(Buffer.from(value).toString('base64'));
  forms.add(Buffer.from(value).toString('base64url'));
  forms.add(JSON.stringify(value).slice(1, -1));
  return [...forms].filter(form => form.length > 0);
}

/** The part of a key that may be shown: its 16-character prefix, as the portal shows it. */
export function keyPrefix(key: string): string {
  return key.slice(0, kKeyPrefixLength);
}

/**
 * Registers a secret. Values shorter than the prefix carry no secret and are ignored, so the
 * empty key or a short hostile value stays readable in reports.
 */
export function registerSecret(value: string | undefined, label: string): void {
  if (!value || value.trim().length <= kKeyPrefixLength) return;
  if (secrets.some(secret => secret.value === value)) return;
  secrets.push({ value, label });
  secrets.sort((a, b) => b.value.length - a.value.length);
}

export function registeredSecrets(): readonly Secret[] {
  return secrets;
}

/** For tests of the suite itself. */
export function clearSecrets(): void {
  secrets.length = 0;
}

/**
 * Anything shaped like a Dyspach key (any environment, any letter case) longer than its prefix:
 * a server may echo part of a key, or a probe may derive a new value from one.
 */
const kKeyShape = /dzk_[a-z]{2,8}_[A-Za-z0-9_-]{8,}/gi;

/** Characters of a secret beyond its prefix that, found together anywhere, are treated as a piece of it. */
const kPieceLength = 10;

/**
 * Replaces every run of text that repeats a piece of a registered secret beyond its 16-character
 * prefix: a server may echo part of a key, or its secret part without the `dzk_live_` that the
 * key-shaped pattern below looks for.
 */
function redactPieces(text: string, secret: Secret): string {
  let out = text;
  const value = secret.value;
  for (let start = kKeyPrefixLength; start + kPieceLength <= value.length; start++) {
    let at = out.indexOf(value.slice(start, start + kPieceLength));
    while (at >= 0) {
      let from = at;
      let to = at + kPieceLength;
      let left = start;
      let right = start + kPieceLength;
      while (from > 0 && left > 0 && out[from - 1] === value[left - 1]) {
        from--;
        left--;
      }
      while (to < out.length && right < value.length && out[to] === value[right]) {
        to++;
        right++;
      }
      const marker = `‹part of the ${secret.label}›`;
      out = out.slice(0, from) + marker + out.slice(to);
      at = out.indexOf(value.slice(start, start + kPieceLength), from + marker.length);
    }
  }
  return out;
}

/** Replaces every registered secret, in any of its encoded forms, with `‹label›`, and any piece of one. */
export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) {
    for (const form of encodedForms(secret.value)) {
      if (out.includes(form)) out = out.split(form).join(`‹${secret.label}›`);
    }
  }
  for (const secret of secrets) out = redactPieces(out, secret);
  return out.replace(kKeyShape, match => `${match.slice(0, kKeyPrefixLength)}…‹redacted›`);
}

/** Redacts every string inside a JSON-like value. */
export function redactDeep<T>(value: T): T {
  return JSON.parse(redact(JSON.stringify(value) ?? 'null')) as T;
}
