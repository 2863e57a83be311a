import crypto from 'node:crypto';

import { kKeyPrefixLength } from '../support/redact';

/** A key as the server stores it: never the key itself, only its SHA-256 hash and its 16-character prefix. */
export interface StoredKey {
  orgId: string;
  name: string;
  prefix: string;
  sha256: string;
  revoked: boolean;
}

export function sha256(value: string): string {
  return crypto.createHash('sha256').update(value).digest('hex');
}

/**
 * Issues a key in the documented shape: `dzk_live_` + 64 characters. The body is base64url, so it
 * carries `_` and `-` as the documentation allows. With a seed, the same seed and name give the same
 * key (the suite's own tests use this to know which keys to look for in reports); without one, it is random.
 */
export function issueKey(name: string, seed?: Buffer, environment = 'live'): string {
  const material = seed ? crypto.createHmac('sha256', seed).update(name).digest() : crypto.randomBytes(48);
  const body = seed ? crypto.createHash('sha512').update(material).digest().subarray(0, 48) : material;
  return `dzk_${environment}_${body.toString('base64url')}`;
}

export class KeyStore {
  private readonly byHash = new Map<string, StoredKey>();

  add(orgId: string, name: string, key: string, revoked = false): StoredKey {
    const stored = { orgId, name, prefix: key.slice(0, kKeyPrefixLength), sha256: sha256(key), revoked };
    this.byHash.set(stored.sha256, stored);
    return stored;
  }

  /** The documented lookup: hash what was presented and require an active key with that hash. */
  findActive(presented: string): StoredKey | undefined {
    const stored = this.byHash.get(sha256(presented));
    return stored && !stored.revoked ? stored : undefined;
  }

  findByHash(presented: string): StoredKey | undefined {
    return this.byHash.get(sha256(presented));
  }

  all(): StoredKey[] {
    return [...this.byHash.values()];
  }

  revoke(orgId: string, name: string): void {
    for (const stored of this.byHash.values()) if (stored.orgId === orgId && stored.name === name) stored.revoked = true;
  }
}

/** Sandboxes of the self-test derive their keys from this seed, so the leak check knows what to look for. */
export const kSelfTestSeed = Buffer.from(process.env.DYSPACH_SELF_TEST_SEED ?? 'dyspach-self-test-seed');
