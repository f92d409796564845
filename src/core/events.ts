import type { SessionError } from '../errors.ts'
import type { StoreMeter } from '../store/store.ts'

// The `onEvent` option: what happened to a session and what it cost, for audit logs and for
// metrics. Events are made only when onEvent is given; without it nothing here runs on a request.

/**
 * What happened:
 * - `created`, `updated`, `touched` (idle expiry extended), `regenerated` (moved to a new id),
 *   `destroyed` (deleted by destroy(), by emptying it, or its old id after regenerate()): a write
 *   the store accepted.
 * - `read`: the session was read from the store (most requests, and most of the cost).
 * - `staleCookie`: a validly signed cookie whose session is gone (expired, collected, logged out,
 *   or ended while the request ran).
 * - `tamperedCookie`: a session cookie that did not verify under any secret.
 * - `storeError`: the store failed or refused (`error.code` says which, e.g. `STORE_UNAVAILABLE`,
 *   `SESSION_ENDED`, `SESSION_CONFLICT`, `SESSION_UNREADABLE`).
 * - `loggedOutEverywhere`: `destroyUserSessions()` ended a user's sessions.
 */
export type SessionEventType =
  | 'created'
  | 'updated'
  | 'touched'
  | 'regenerated'
  | 'destroyed'
  | 'read'
  | 'staleCookie'
  | 'tamperedCookie'
  | 'storeError'
  | 'loggedOutEverywhere'

/** One call the store made to its service: a DynamoDB API call (SDK retries included), or a store method. */
export interface StoreCall {
  /** DynamoDB's operation, e.g. 'GetItem'; for a store that reports no calls, its method, e.g. 'load'. */
  operation: string
  /** The capacity units DynamoDB reported; undefined for a refused or failed call, whose error reports none. */
  capacityUnits: number | undefined
}

export interface SessionEvent {
  type: SessionEventType
  /** The session's store key (the SHA-256 of its id, as in the table), never the id itself. */
  key: string | undefined
  /** `regenerated`: the store key the session moved from. */
  previousKey?: string | undefined
  /** The user the session is bound to, or was bound to when the request read it. */
  userId: string | undefined
  /** The store calls made since the request's previous event, in order. */
  calls: StoreCall[]
  /** The sum of the calls' capacity units. */
  capacityUnits: number
  /** Milliseconds spent waiting for those calls (summed: calls made in parallel overlap). */
  durationMs: number
  /** When the first of those calls started (epoch milliseconds); when the event happened, with no calls. */
  startTime: number
  /** The request, for per-route figures; undefined outside a request (`destroyUserSessions`). */
  request: Request | undefined
  /** `storeError`: what went wrong. */
  error?: SessionError | undefined
  /** `loggedOutEverywhere`: how many sessions were ended. */
  ended?: number | undefined
}

/**
 * Receives session events. It is called in a microtask after the event and never awaited: it
 * cannot delay or break a request; what it throws or rejects is logged.
 */
export type EventHandler = (event: SessionEvent) => void | Promise<void>

/**
 * What an emit point knows beyond the calls: the extra fields of its type, and which session
 * (by default the store key of the latest store call, and the user as read).
 */
type EventDetails = Partial<Pick<SessionEvent, 'key' | 'userId' | 'previousKey' | 'error' | 'ended'>>

/**
 * Collects one request's store calls and hands them out with each event: every event carries the
 * calls made since the previous one.
 */
export class EventRecorder implements StoreMeter {
  #calls: StoreCall[] = []
  #ms = 0
  #startTime: number | undefined
  /** The user bound to the session as the request read it: a destroyed session's events still name it. */
  readUser: string | undefined
  /** The store key of the latest store call. */
  key: string | undefined

  constructor(
    readonly onEvent: EventHandler,
    readonly request: Request | undefined,
  ) {}

  called(operation: string, capacityUnits?: number): void {
    this.#calls.push({ operation, capacityUnits })
  }

  /**
   * Runs one store call with this recorder as its meter, timing it; a store that told the meter
   * nothing (a custom one, MemoryStore) is counted as one call named `operation`.
   */
  async time<T>(
    operation: string,
    key: string | undefined,
    work: (meter: StoreMeter) => Promise<T>,
  ): Promise<T> {
    this.key = key
    const before = this.#calls.length
    const started = performance.now()
    this.#startTime ??= Date.now()
    try {
      return await work(this)
    } finally {
      this.#ms += performance.now() - started
      if (this.#calls.length === before) this.called(operation)
    }
  }

  emit(type: SessionEventType, details: EventDetails): void {
    const calls = this.#calls
    const event: SessionEvent = {
      type,
      ...details,
      key: 'key' in details ? details.key : this.key,
      userId: details.userId ?? this.readUser,
      calls,
      capacityUnits: calls.reduce((sum, call) => sum + (call.capacityUnits ?? 0), 0),
      durationMs: this.#ms,
      startTime: this.#startTime ?? Date.now(),
      request: this.request,
    }
    this.#calls = []
    this.#ms = 0
    this.#startTime = undefined
    deliver(this.onEvent, event)
  }
}

/** Calls `onEvent` in a microtask, so the request never waits for it, and logs what it throws. */
function deliver(onEvent: EventHandler, event: SessionEvent): void {
  queueMicrotask(() => {
    try {
      const result = onEvent(event)
      if (result && typeof result.then === 'function') result.then(undefined, logFailure)
    } catch (error) {
      logFailure(error)
    }
  })
}

function logFailure(error: unknown): void {
  console.error('[dynamodb-session] onEvent failed; the request was not affected:', error)
}
