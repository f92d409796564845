// Session ids, their signatures and their at-rest hashes, with WebCrypto (and, for the one
// check that cannot wait, @noble/hashes' audited HMAC) so the same code runs on Node, Deno, Bun and Workers.

import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'

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

/** A random name for one write, so a store can tell a retry of it from another request's write. */
export function createWriteId(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(16)))
}

/**
 * A signing secret: a string (its UTF-8 bytes are the key), random bytes, or an HMAC-SHA256
 * `CryptoKey` made elsewhere (a KMS, Secrets Manager), used as it is.
 */
export type Secret = string | Uint8Array | CryptoKey

export const MIN_SECRET_LENGTH = 32
export const MIN_SECRET_BYTES = 32

/**
 * True for a WebCrypto key, from this realm or another (the tag survives where `instanceof` may not).
 *
 * @example
 * isCryptoKey(await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])) // true
 */
export function isCryptoKey(value: unknown): value is CryptoKey {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.prototype.toString.call(value) === '[object CryptoKey]'
  )
}

/**
 * Imports each secret once as an HMAC-SHA256 key (a CryptoKey is taken as it is); the first signs,
 * all verify. The secrets were checked by the options.
 *
 * @example
 * const [signing] = await importSigningKeys([process.env.SESSION_SECRET])
 */
export function importSigningKeys(secrets: readonly Secret[]): Promise<CryptoKey[]> {
  return Promise.all(
    secrets.map((secret) =>
      isCryptoKey(secret)
        ? secret
        : crypto.subtle.importKey(
            'raw',
            typeof secret === 'string' ? encoder.encode(secret) : new Uint8Array(secret),
            { name: 'HMAC', hash: 'SHA-256' },
            false,
            ['sign', 'verify'],
          ),
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
  const parsed = parseSigned(value)
  if (!parsed) return undefined
  const { id, data, signatureBytes } = parsed
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
  const parsed = parseSigned(value)
  if (!parsed) return undefined
  const { id, data, signatureBytes } = parsed
  for (const [index, secret] of secrets.entries()) {
    if (equalInConstantTime(hmac(sha256, secret, data), signatureBytes)) {
      return { id, signedWithOlderKey: index > 0 }
    }
  }
  return undefined
}

/** The id (and its bytes) and signature of a value shaped like a signed id, checked before any crypto. */
function parseSigned(value: string) {
  const match = SIGNED_SESSION_ID.exec(value)
  if (!match) return undefined
  const [, id = '', signature = ''] = match
  const signatureBytes = fromBase64Url(signature)
  return signatureBytes && { id, data: encoder.encode(id), signatureBytes }
}

/**
 * The store key of a session: the SHA-256 of its id. A dump of the table then holds no
 * usable cookie, and lookups cannot be timed against the real id. It is the `key` that
 * `listUserSessions()` reports and that a `Store`'s `load()` takes.
 *
 * @example
 * const key = await hashSessionId(session.id)
 * const stored = (await store.load(key)) !== undefined
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

/** Compares every byte whatever the first difference, so the time taken tells nothing. */
function equalInConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let difference = 0
  for (let i = 0; i < a.length; i++) difference |= (a[i] as number) ^ (b[i] as number)
  return difference === 0
}
