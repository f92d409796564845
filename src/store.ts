/**
 * One stored session. `key` is the SHA-256 of the session id (never the id itself);
 * times are epoch seconds.
 */
export interface SessionRecord {
  key: string
  data: Record<string, unknown>
  createdAt: number
  updatedAt: number
  /** When the session stops being valid: min(updatedAt + maxStale, createdAt + maxAge). */
  expiresAt: number
  /** Raised by one on every data write, for compare-and-swap between concurrent requests. */
  version: number
}

/**
 * Where sessions live. Every write is conditional, so a request still in flight can neither
 * overwrite another session nor bring back one that was destroyed or regenerated meanwhile.
 */
export interface Store {
  /** The live record under `key`; undefined when absent or past `expiresAt`. */
  load(key: string): Promise<SessionRecord | undefined>
  /** Writes a new record; false, writing nothing, when the key is already taken. */
  create(record: SessionRecord): Promise<boolean>
  /**
   * Replaces data, `updatedAt`, `expiresAt` and `version` of a live record whose stored
   * version is `expectedVersion`; false, writing nothing, when it is gone or has moved on.
   */
  update(record: SessionRecord, expectedVersion: number): Promise<boolean>
  /** Moves only `updatedAt` and `expiresAt` of a live record; false when it is gone. */
  touch(record: Pick<SessionRecord, 'key' | 'updatedAt' | 'expiresAt'>): Promise<boolean>
  /** Removes the record, if any. */
  delete(key: string): Promise<void>
}

export function nowInSeconds(): number {
  return Math.floor(Date.now() / 1000)
}
