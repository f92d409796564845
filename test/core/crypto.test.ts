import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  createSessionId,
  hashSessionId,
  importSigningKeys,
  signSessionId,
  verifySignedSessionId,
} from '../../src/core/crypto.ts'
import { OLD_SECRET, SECRET } from '../support/harness.ts'

describe('session ids and signatures', () => {
  it('makes distinct 256-bit ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, createSessionId))
    expect(ids.size).toBe(1000)
    for (const id of ids) expect(Buffer.from(id, 'base64url')).toHaveLength(32)
  })

  it('verifies with every key and says when an older one signed', async () => {
    const [newest, older] = (await importSigningKeys([SECRET, OLD_SECRET])) as [CryptoKey, CryptoKey]
    const id = createSessionId()
    expect(await verifySignedSessionId(await signSessionId(id, newest), [newest, older])).toEqual({
      id,
      signedWithOlderKey: false,
    })
    expect(await verifySignedSessionId(await signSessionId(id, older), [newest, older])).toEqual({
      id,
      signedWithOlderKey: true,
    })
    expect(await verifySignedSessionId(await signSessionId(id, older), [newest])).toBeUndefined()
  })

  it('accepts one spelling only: a look-alike last character is refused', async () => {
    const [key] = (await importSigningKeys([SECRET])) as [CryptoKey]
    const signed = await signSessionId(createSessionId(), key)
    const last = signed.at(-1) ?? 'A'
    // The last character's two low bits are padding: the next character decodes to the same bytes.
    const lookAlike = `${signed.slice(0, -1)}${String.fromCharCode(last.charCodeAt(0) + 1)}`
    expect(Buffer.from(lookAlike.split('.')[1] ?? '', 'base64url')).toEqual(
      Buffer.from(signed.split('.')[1] ?? '', 'base64url'),
    )
    expect(await verifySignedSessionId(lookAlike, [key])).toBeUndefined()
  })

  it('stores the base64url SHA-256 of the id', async () => {
    const id = createSessionId()
    expect(await hashSessionId(id)).toBe(createHash('sha256').update(id).digest('base64url'))
  })
})
