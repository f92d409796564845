// src/store/ holds the Store contract (below) and MemoryStore: what every store must do, with each
// conditional rule spelled out, so the core can rely on it without knowing which store it has.
// It imports nothing but src/errors.ts; the core and the DynamoDB wing both build on it.

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
  /** The user the session is bound to (`session.setUser()`), for listing and ending a user's sessions. */
  userId?: string | undefined
  /**
   * How many updates the record has had: none when created (absent means 0), one more with each
   * `update` (touches do not count). A write that must not undo another request's change checks it.
   */
  version?: number | undefined
  /**
   * Names the write that stores this record (create or update): a store asked to repeat a write
   * that already landed (an SDK retry after a lost answer) recognises its own by it, and answers
   * true instead of reading its own change as another request's.
   */
  writeId?: string | undefined
}

/** One of a user's live sessions, as `listUserSessions()` reports it: never its cookie id. */
export interface UserSession {
  /** The store key: the SHA-256 of the session id. */
  key: string
  createdAt: number
  updatedAt: number
  expiresAt: number
}

/**
 * Where sessions live. Every write is conditional, so a request still in flight can neither
 * overwrite another session nor bring back one that was destroyed or regenerated meanwhile.
 * Every method's last argument may carry a `meter`, told of each call the store makes.
 */
export interface Store {
  /** The live record under `key`; undefined when absent or past `expiresAt`. */
  load(key: string, options?: CallOptions): Promise<SessionRecord | undefined>
  /**
   * Writes a new record, with no version; false, writing nothing, when the key is already taken
   * (by another write than this one: a repeat of this very create, same `writeId`, answers true).
   */
  create(record: SessionRecord, options?: CallOptions): Promise<boolean>
  /**
   * Writes the values of `changedKeys` from `record.data` (removing those it lacks), and
   * `updatedAt` and `expiresAt`, into a live record; other keys stay as they are, so concurrent
   * requests changing different keys all keep their change. Adds one to `version`. False,
   * writing nothing, when the record is gone (or, with `ifUnchanged`, no longer at `record.version`);
   * a repeat of this very update (same `writeId`) that already landed answers true.
   */
  update(record: SessionRecord, changedKeys: readonly string[], options?: UpdateOptions): Promise<boolean>
  /** Moves only `updatedAt` and `expiresAt` of a live record; false when it is gone. */
  touch(
    record: Pick<SessionRecord, 'key' | 'updatedAt' | 'expiresAt'>,
    options?: CallOptions,
  ): Promise<boolean>
  /**
   * Removes the record, if any, and resolves true. With `onlyIf` `'live'`, only a live record:
   * false, removing nothing, when it is gone, unless this very delete (same `writeId`) removed it
   * (a repeat after a lost answer). With `{ version }`, only a live one that no update has changed
   * since it was read at that version: false when another update came, true when nothing live is
   * left to remove.
   */
  delete(key: string, options?: DeleteOptions): Promise<boolean>
  /** The live sessions bound to `userId`, all pages of them. Optional: needed for "log out everywhere". */
  findByUser?(userId: string, options?: CallOptions): Promise<UserSession[]>
}

/** What any store call may be given. */
export interface CallOptions {
  /** Told of each call this one makes to the service behind the store; a store that cannot tell ignores it. */
  meter?: StoreMeter | undefined
}

/**
 * Counts what a request's session costs (for the `onEvent` option): a store tells it of each
 * call it makes to its service (for DynamoDB, each API call, its SDK retries included), and of
 * the capacity units the service reported for it, if any.
 */
export interface StoreMeter {
  called(operation: string, capacityUnits?: number): void
}

export interface UpdateOptions extends CallOptions {
  /** Writes `userId` too. */
  userChanged?: boolean | undefined
  /** Writes only if no update came since `record.version` was read. */
  ifUnchanged?: boolean | undefined
  /**
   * Writes only while the stored value of one key is still `value`, in its stored form as `load`
   * returned it (`undefined`: the key is absent): a compare-and-swap on that key alone, so
   * `session.update()` can re-read and re-apply instead of losing a concurrent change.
   */
  ifValue?: { key: string; value: unknown } | undefined
}

export interface DeleteOptions extends CallOptions {
  /** Removes only a live record (`'live'`), or only one still at this version. */
  onlyIf?: 'live' | { version: number } | undefined
  /** Names this delete, so a repeat of it after a lost answer is recognised (with `onlyIf: 'live'`). */
  writeId?: string | undefined
}

/**
 * True when `data` holds `expected` under `key` (`undefined`: holds nothing there), compared as
 * JSON, the form every store keeps values in.
 *
 * @example
 * holdsValue({ count: 1 }, 'count', 1) // true
 */
export function holdsValue(data: Record<string, unknown>, key: string, expected: unknown): boolean {
  if (!Object.hasOwn(data, key)) return expected === undefined
  return expected !== undefined && JSON.stringify(data[key]) === JSON.stringify(expected)
}

export function nowInSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

/** `base` with the values of `keys` taken from `changes`, or removed where `changes` lacks them. */
export function withChanges(
  base: Record<string, unknown>,
  changes: Record<string, unknown>,
  keys: readonly string[],
): Record<string, unknown> {
  const data: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(base)) setOwn(data, key, value)
  for (const key of keys) {
    if (Object.hasOwn(changes, key)) setOwn(data, key, changes[key])
    else delete data[key]
  }
  return data
}

/** Sets an own, plain data property: unlike `target[key] = value`, safe for keys like `__proto__`. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // __proto__ is Object.prototype's only accessor: any other key assigns as it defines, faster.
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  } else target[key] = value
}
