import { defaults, seal, unseal } from 'iron-webcrypto'
import { ConfigError, SessionError } from '../errors.ts'
import { setOwn } from '../store/store.ts'
import { isCryptoKey, type Secret } from './crypto.ts'
import type { SessionData } from './session.ts'

// Session values sealed at rest with iron (AES-256-CBC and HMAC-SHA256 through WebCrypto).
// Each value is sealed alone, so an update still writes only the keys it changed. A sealed value
// is stored as { "$sealed": "Fe26.2*<secret id>*..." }: the id names the secret that sealed it,
// so unsealing finds the right one of the rotating secrets at once. A plain value of that shape
// (user input, say) is stored as { "$plain": value }, so it can never pass for a sealed one.

const SEALED = '$sealed'
const PLAIN = '$plain'
const IRON_PREFIX = 'Fe26.2*'

export interface Sealer {
  /** Seals when encryption is on; otherwise returns the value as it is. */
  encode(value: unknown): Promise<unknown>
  /**
   * Unseals what is sealed, whatever the option says now, and names the stale keys: those in
   * the other form, or sealed by an older secret, to be rewritten so old secrets can retire.
   */
  decode(data: SessionData): Promise<{ data: SessionData; staleKeys: string[] }>
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

  return {
    async encode(value) {
      if (!encrypt) return wrapperKey(value) === undefined ? value : { [PLAIN]: value }
      const [newest] = await passwords
      return { [SEALED]: await seal(value, newest as { id: string; secret: string }, defaults) }
    },

    async decode(stored) {
      const data: SessionData = {}
      const staleKeys: string[] = []
      for (const [key, value] of Object.entries(stored)) {
        const sealed = isSealed(value)
        // Stale: in the form the option does not use, or sealed by a secret that no longer seals.
        if (sealed !== encrypt || (sealed && value[SEALED].split('*')[1] !== (await passwords)[0]?.id)) {
          staleKeys.push(key)
        }
        let plain = wrapperKey(value) === PLAIN ? (value as { [PLAIN]: unknown })[PLAIN] : value
        if (sealed) {
          try {
            plain = await unseal(value[SEALED], await byId, defaults)
          } catch (cause) {
            throw new SessionError(
              'SESSION_UNREADABLE',
              `A sealed session value ("${key}") could not be unsealed: it was altered, or sealed by a secret ` +
                'no longer in "secretKey". The session reads as absent.',
              { cause },
            )
          }
        }
        setOwn(data, key, plain)
      }
      return { data, staleKeys }
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
