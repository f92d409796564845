// Session ids, their signatures and their at-rest hashes, with WebCrypto (and, for the one
// check that cannot wait, hmac-now.ts) so the same code runs on Node, Deno, Bun and Workers.

import { equalInConstantTime, hmacSha256 } from './hmac-now.ts'

const encoder = new TextEncoder()

/**
 * 32 bytes in base64url: 43 characters, no padding. The last character carries 4 bits and
 * two zero bits, so only 16 characters may end it: one spelling per value, no look-alikes.
 */
const BYTES_32 = '[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]'
/** An id, a dot, and its HMAC-SHA256. */
const SIGNED_SESSION_ID = new RegExp(`^(${BYTES_32})\\.(${BYTES_32})$`)

/** True when `value` is shaped like a signed session id; checked before any crypto or caching. */
export function looksSigned(value: string): boolean {
  return SIGNED_SESSION_ID.test(value)
}

export function createSessionId(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(32)))
}

/** Imports each secret once as an HMAC-SHA256 key; the first signs, all verify. */
export function importSigningKeys(secrets: readonly string[]): Promise<CryptoKey[]> {
  return Promise.all(
    secrets.map((secret) =>
      crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
        'sign',
        'verify',
      ]),
    ),
  )
}

export async function signSessionId(id: string, key: CryptoKey): Promise<string> {
  const signature = await crypto.subtle.sign('HMAC', key, encoder.encode(id))
  return `${id}.${toBase64Url(new Uint8Array(signature))}`
}

export interface VerifiedSessionId {
  id: string
  /** True when a secret other than the newest verified it: the cookie should be re-signed. */
  signedWithOlderKey: boolean
}

/**
 * Returns the id when one of the keys signed it, else undefined. The format is checked
 * before any crypto, and `crypto.subtle.verify` compares in constant time.
 */
export async function verifySignedSessionId(
  value: string,
  keys: readonly CryptoKey[],
): Promise<VerifiedSessionId | undefined> {
  const match = SIGNED_SESSION_ID.exec(value)
  if (!match) return undefined
  const [, id = '', signature = ''] = match
  const signatureBytes = fromBase64Url(signature)
  if (!signatureBytes) return undefined
  const data = encoder.encode(id)
  for (const [index, key] of keys.entries()) {
    if (await crypto.subtle.verify('HMAC', key, signatureBytes, data)) {
      return { id, signedWithOlderKey: index > 0 }
    }
  }
  return undefined
}

/**
 * `verifySignedSessionId` without waiting: the same answer, computed in JavaScript from the
 * secrets' bytes, for `session.id` read before the cookie's check was done.
 */
export function verifySignedSessionIdNow(
  value: string,
  secrets: readonly Uint8Array[],
): VerifiedSessionId | undefined {
  const match = SIGNED_SESSION_ID.exec(value)
  if (!match) return undefined
  const [, id = '', signature = ''] = match
  const signatureBytes = fromBase64Url(signature)
  if (!signatureBytes) return undefined
  const data = encoder.encode(id)
  for (const [index, secret] of secrets.entries()) {
    if (equalInConstantTime(hmacSha256(secret, data), signatureBytes)) {
      return { id, signedWithOlderKey: index > 0 }
    }
  }
  return undefined
}

/**
 * The store key of a session: the SHA-256 of its id. A dump of the table then holds no
 * usable cookie, and lookups cannot be timed against the real id.
 */
export async function hashSessionId(id: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(id))
  return toBase64Url(new Uint8Array(digest))
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'))
    return Uint8Array.from(binary, (char) => char.charCodeAt(0))
  } catch {
    return undefined
  }
}
