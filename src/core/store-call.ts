import { SessionError, SessionStoreError } from '../errors.ts'
import type { StoreMeter } from '../store/store.ts'
import type { EventRecorder } from './events.ts'

/**
 * Runs one store call on the session stored under `key` (undefined: not one session's call); a custom store's own errors surface
 * typed too, as `STORE_UNAVAILABLE`. With `events` (the onEvent option), the call is metered and
 * timed, and a failure is reported as a `storeError` event.
 */
export async function storeCall<T>(
  events: EventRecorder | undefined,
  operation: string,
  key: string | undefined,
  work: (meter: StoreMeter | undefined) => Promise<T>,
): Promise<T> {
  try {
    return await (events ? events.time(operation, key, work) : work(undefined))
  } catch (cause) {
    const error = cause instanceof SessionError ? cause : new SessionStoreError(operation, cause)
    events?.emit('storeError', { error })
    throw error
  }
}
