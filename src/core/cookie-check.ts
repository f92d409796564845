import type { SessionCookie } from './cookie.ts'
import {
  isCryptoKey,
  looksSigned,
  type Secret,
  type VerifiedSessionId,
  verifySignedSessionId,
  verifySignedSessionIdNow,
} from './crypto.ts'
import { RecentMap } from './recent.ts'
import type { CookieCheck, SessionState } from './session.ts'

// The session cookie's check, done on the session's first use rather than when the request
// arrives: a route that never uses its session reads no header and calls no WebCrypto.

/** How many recent cookies' checks each middleware remembers. */
const RECENT_COOKIES = 10_000

export interface CookieChecker {
  /**
   * False when a secret is a CryptoKey, whose bytes JavaScript cannot see: the cookie must then be
   * verified (through WebCrypto) before the session is handed out, for a synchronous `session.id`.
   */
  canVerifyNow: boolean
  /**
   * The check of `request`'s cookie, for `state`: it settles the state's cookie fields once.
   * `cookieOf` gives the request's cookie options, asked only when the cookie is first read.
   */
  checkFor(request: Request, state: SessionState, cookieOf: () => SessionCookie): CookieCheck
  /** Remembers that `signed` (a cookie this middleware just signed with its newest key) holds `id`. */
  remember(signed: string, id: string): void
}

/**
 * Verifies session cookies against `keys` (newest first), remembering recent results: a returning
 * visitor sends the same cookie again and again, so a repeat costs no HMAC. Of several cookies of
 * the session's name, the first that verifies is used; one that fails never reaches the store.
 */
export function createCookieChecker(secrets: readonly Secret[], keys: Promise<CryptoKey[]>): CookieChecker {
  // `false` remembers a cookie that did not verify. Junk is refused before the cache, so the
  // cache holds only id-shaped values (87 characters).
  const checks = new RecentMap<string, VerifiedSessionId | false>(RECENT_COOKIES)
  const encoder = new TextEncoder()
  const secretBytes = secrets.flatMap((secret) =>
    isCryptoKey(secret) ? [] : [typeof secret === 'string' ? encoder.encode(secret) : secret],
  )
  const canVerifyNow = secretBytes.length === secrets.length

  const remembered = (value: string): VerifiedSessionId | false | undefined =>
    looksSigned(value) ? checks.get(value) : false

  /** The check without waiting: remembered, or computed in JavaScript (@noble/hashes' HMAC). */
  const verifyNow = (value: string): VerifiedSessionId | false => {
    let verified = remembered(value)
    if (verified === undefined) {
      verified = verifySignedSessionIdNow(value, secretBytes) ?? false
      checks.set(value, verified)
    }
    return verified
  }

  const verify = async (value: string): Promise<VerifiedSessionId | false> => {
    let verified = remembered(value)
    if (verified === undefined) {
      verified = (await verifySignedSessionId(value, await keys)) ?? false
      checks.set(value, verified)
    }
    return verified
  }

  return {
    canVerifyNow,
    checkFor(request, state, cookieOf) {
      let values: string[] | undefined
      let verifying: Promise<void> | undefined
      const settle = (verified: VerifiedSessionId | undefined) => {
        if (state.cookie !== check) return
        state.cookie = undefined
        state.id = verified?.id
        state.storedId = verified?.id
        state.signedWithOlderKey = verified?.signedWithOlderKey ?? false
        state.hadBadCookie = !verified && (values?.length ?? 0) > 0
        if (state.hadBadCookie) state.events?.emit('tamperedCookie', { key: undefined, userId: undefined })
      }
      const check: CookieCheck = {
        now() {
          values ??= cookieOf().values(request)
          for (const value of values) {
            const verified = verifyNow(value)
            if (verified) return settle(verified)
          }
          settle(undefined)
        },
        verify() {
          verifying ??= (async () => {
            values ??= cookieOf().values(request)
            for (const value of values) {
              const verified = await verify(value)
              if (verified) return settle(verified)
            }
            settle(undefined)
          })()
          return verifying
        },
      }
      return check
    },

    remember(signed, id) {
      checks.set(signed, { id, signedWithOlderKey: false })
    },
  }
}
