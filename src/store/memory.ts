import {
  type DeleteOptions,
  holdsValue,
  nowInSeconds,
  type SessionRecord,
  type Store,
  type UpdateOptions,
  type UserSession,
  withChanges,
} from './store.ts'

/**
 * Keeps sessions in this process's memory, with the same conditional semantics as
 * `DynamoDBStore`. For development and tests: sessions are lost on restart and are not
 * shared between instances. It makes no calls to any service, so it tells a `meter` nothing.
 */
export class MemoryStore implements Store {
  // Data is kept as JSON text, as a real store keeps it: every load hands out a copy of its own
  // (JSON.parse, cheaper than structuredClone), and nothing a caller does to it reaches the store.
  readonly #records = new Map<string, StoredRecord>()
  /** Who deleted what, so a repeated delete-if-live recognises its own (as DynamoDB's tokens do). */
  readonly #deletedBy = new Map<string, string>()

  async load(key: string): Promise<SessionRecord | undefined> {
    const record = this.#live(key)
    if (!record) return undefined
    const { writeId: _, ...loaded } = record
    return { ...loaded, data: JSON.parse(record.data) }
  }

  async create(record: SessionRecord): Promise<boolean> {
    const taken = this.#records.get(record.key)
    if (taken) return isOwn(taken, record.writeId)
    const { version: _, ...created } = record
    this.#records.set(record.key, { ...created, data: JSON.stringify(record.data) })
    return true
  }

  async update(
    record: SessionRecord,
    changedKeys: readonly string[],
    options: UpdateOptions = {},
  ): Promise<boolean> {
    const stored = this.#live(record.key)
    if (!stored) return false
    if (options.ifUnchanged && (stored.version ?? 0) !== (record.version ?? 0))
      return isOwn(stored, record.writeId)
    const data = JSON.parse(stored.data)
    const { ifValue } = options
    if (ifValue && !holdsValue(data, ifValue.key, ifValue.value)) return isOwn(stored, record.writeId)
    stored.data = JSON.stringify(withChanges(data, record.data, changedKeys))
    if (options.userChanged) stored.userId = record.userId
    stored.updatedAt = record.updatedAt
    stored.expiresAt = record.expiresAt
    stored.version = (stored.version ?? 0) + 1
    stored.writeId = record.writeId
    return true
  }

  async findByUser(userId: string): Promise<UserSession[]> {
    return [...this.#records.keys()]
      .map((key) => this.#live(key))
      .filter((record) => record?.userId === userId)
      .map((record) => {
        const { key, createdAt, updatedAt, expiresAt } = record as StoredRecord
        return { key, createdAt, updatedAt, expiresAt }
      })
  }

  async touch({ key, updatedAt, expiresAt }: Pick<SessionRecord, 'key' | 'updatedAt' | 'expiresAt'>) {
    const stored = this.#live(key)
    if (!stored) return false
    stored.updatedAt = updatedAt
    stored.expiresAt = expiresAt
    return true
  }

  async delete(key: string, { onlyIf, writeId }: DeleteOptions = {}): Promise<boolean> {
    const stored = this.#live(key)
    if (onlyIf === 'live' && !stored) return writeId !== undefined && this.#deletedBy.get(key) === writeId
    if (typeof onlyIf === 'object' && stored && (stored.version ?? 0) !== onlyIf.version) return false
    this.#records.delete(key)
    if (writeId !== undefined) remember(this.#deletedBy, key, writeId)
    return true
  }

  /** Expired records are dropped as they are met, as DynamoDB's TTL would do eventually. */
  #live(key: string): StoredRecord | undefined {
    const record = this.#records.get(key)
    if (record && record.expiresAt <= nowInSeconds()) {
      this.#records.delete(key)
      return undefined
    }
    return record
  }
}

/** A record as MemoryStore holds it: its data as JSON text. */
type StoredRecord = Omit<SessionRecord, 'data'> & { data: string }

/** True when `record` was stored by the write named `writeId`: a repeat of it, not a conflict. */
function isOwn(record: StoredRecord, writeId: string | undefined): boolean {
  return writeId !== undefined && record.writeId === writeId
}

/** Remembers the newest thousand deletes, about as long as DynamoDB keeps a write's token. */
function remember(deletedBy: Map<string, string>, key: string, writeId: string): void {
  deletedBy.set(key, writeId)
  if (deletedBy.size > 1000) deletedBy.delete(deletedBy.keys().next().value as string)
}
