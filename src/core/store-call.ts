import { SessionError, SessionStoreError } from '../errors.ts'

/** Runs one store call; a custom store's own errors surface typed too, as `STORE_UNAVAILABLE`. */
export async function storeCall<T>(operation: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw error instanceof SessionError ? error : new SessionStoreError(operation, error)
  }
}
