import { defaults, seal, unseal } from 'iron-webcrypto'
import { ConfigError, SessionError } from '../errors.ts'
import { setOwn } from '../store/store.ts'
import { isCryptoKey, type Secret } from './crypto.ts'
import { RecentMap } from './recent.ts'
import type { SessionData } from './session.ts'

// Session values sealed at rest with iron (AES-256-CBC and HMAC-SHA256 through WebCrypto).
// Each value is sealed alone, so an update still writes only the keys it changed. A sealed value
// is stored as { "$sealed": "Fe26.2*<secret id>*..." }: the id names the secret that sealed it,
// so unsealing finds the right one of the rotating secrets at once. A plain value of that shape
// (user input, say) is stored as { "$plain": value }, so it can never pass for a sealed one.

const SEALED = '$sealed'
const PLAIN = '$plain'
const IRON_PREFIX = 'Fe26.2*'

// Unsealing costs six WebCrypto calls (two PBKDF2 key derivations, an HMAC check, a decryption)
// per value, and a returning visitor's values come back sealed the same until they change: each
// sealer remembers what recent seals held, keyed by the whole sealed string, so a seal it has
// met once costs a JSON.parse. A seal altered in any way is another key and is checked in
// full; the cache belongs to one middleware and so to its secrets, and a retired secret's seal
// was never unsealed by a middleware without it. A seal this sealer made is remembered too: the
// next request reads back what this one wrote. Bounded by characters held, sealed and plain:
// 8 million (8 to 16 MB), so the ~2 KB of seals of a few thousand sessions stay.
const REMEMBERED_CHARACTERS = 8_000_000

export interface Sealer {
  /** Seals when encryption is on; otherwise returns the value as it is. */
  encode(value: unknown): Promise<unknown>
  /**
   * Unseals what is sealed, whatever the option says now, and names the stale keys: those in
   * the other form, or sealed by an older secret, to be rewritten so old secrets can retire.
   */
  decode(data: SessionData): Promise<DecodedData>
}

export interface DecodedData {
  data: SessionData
  /** Each decoded value as JSON (JSON.stringify's), made while decoding: the dirty check's snapshot. */
  json: Map<string, string>
  staleKeys: string[]
}

export function createSealer(secrets: readonly Secret[], encrypt: boolean): Sealer {
  if (encrypt && secrets.some(isCryptoKey)) {
    throw new ConfigError(
      'Session option "encrypt" cannot be true with a CryptoKey in "secretKey": give the secrets as strings or Uint8Arrays.',
      'encrypt',
      'code',
    )
  }
  // A CryptoKey cannot seal (iron needs the secret itself), so it never sealed anything either.
  const passwords = Promise.all(
    secrets
      .filter((secret) => !isCryptoKey(secret))
      .map(async (secret) => {
        const password = sealingPassword(secret as string | Uint8Array)
        return { id: await secretId(password), secret: password }
      }),
  )
  const byId = passwords.then((list) => Object.fromEntries(list.map(({ id, secret }) => [id, secret])))
  const unsealed = new RecentMap<string, string>(
    REMEMBERED_CHARACTERS,
    (sealed, json) => sealed.length + json.length,
  )

  /** The JSON of what `sealed` holds; throws when it does not unseal under the secrets. */
  const unsealJson = async (sealed: string): Promise<string> => {
    let json = unsealed.get(sealed)
    if (json === undefined) {
      // Iron's own JSON text is parsed and written back once, so the snapshot is JSON.stringify's.
      json = JSON.stringify(await unseal(sealed, await byId, defaults))
      remember(sealed, json)
    }
    return json
  }
  const remember = (sealed: string, json: string) => unsealed.set(sealed, json)

  return {
    async encode(value) {
      if (!encrypt) return wrapperKey(value) === undefined ? value : { [PLAIN]: value }
      const [newest] = await passwords
      const sealed = await seal(value, newest as { id: string; secret: string }, defaults)
      // The next request reads back what this one wrote: it unseals for free.
      remember(sealed, JSON.stringify(value))
      return { [SEALED]: sealed }
    },

    async decode(stored) {
      const data: SessionData = {}
      const json = new Map<string, string>()
      const staleKeys: string[] = []
      for (const [key, value] of Object.entries(stored)) {
        const sealed = isSealed(value)
        // Stale: in the form the option does not use, or sealed by a secret that no longer seals.
        if (sealed !== encrypt || (sealed && value[SEALED].split('*')[1] !== (await passwords)[0]?.id)) {
          staleKeys.push(key)
        }
        if (sealed) {
          let text: string
          try {
            text = await unsealJson(value[SEALED])
          } catch (cause) {
            throw new SessionError(
              'SESSION_UNREADABLE',
              `A sealed session value ("${key}") could not be unsealed: it was altered, or sealed by a secret ` +
                'no longer in "secretKey". The session reads as absent.',
              { cause },
            )
          }
          // Parsed anew for each request: the handler may change its value in place.
          setOwn(data, key, JSON.parse(text))
          json.set(key, text)
        } else {
          const plain = wrapperKey(value) === PLAIN ? (value as { [PLAIN]: unknown })[PLAIN] : value
          setOwn(data, key, plain)
          json.set(key, JSON.stringify(plain))
        }
      }
      return { data, json, staleKeys }
    },
  }
}

/** `$sealed` or `$plain` when `value` is an object with that one key: the two stored wrappers. */
function wrapperKey(value: unknown): typeof SEALED | typeof PLAIN | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const keys = Object.keys(value)
  return keys.length === 1 && (keys[0] === SEALED || keys[0] === PLAIN) ? keys[0] : undefined
}

function isSealed(value: unknown): value is { [SEALED]: string } {
  const sealed = wrapperKey(value) === SEALED && (value as { [SEALED]: unknown })[SEALED]
  return typeof sealed === 'string' && sealed.startsWith(IRON_PREFIX)
}

/**
 * The iron password of a secret: a string as it is; bytes as base64 text, because iron takes a
 * byte password as the AES key itself, which must then be exactly 32 bytes, while a text password
 * of any length is stretched to one.
 */
function sealingPassword(secret: string | Uint8Array): string {
  if (typeof secret === 'string') return secret
  let binary = ''
  for (const byte of secret) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** A short, stable name for a secret that reveals nothing of it (iron takes only \w in ids). */
async function secretId(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    'SHA-256',
    new TextEncoder().encode(`dynamodb-session seal id\n${secret}`),
  )
  return [...new Uint8Array(digest).slice(0, 8)].map((byte) => byte.toString(16).padStart(2, '0')).join('')
}
