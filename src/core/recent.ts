/**
 * A small map that forgets its least recently used entries past about `limit`: for results that
 * are costly to compute and safe to reuse, such as a cookie's signature check.
 *
 * Two generations instead of an exact LRU order: a hit in the current one costs one Map lookup
 * (no reordering on every read), a hit in the previous one moves the entry to the current one,
 * and when the current one is full the previous one is dropped. At most `limit` entries are held.
 */
export class RecentMap<Key, Value> {
  #current = new Map<Key, Value>()
  #previous = new Map<Key, Value>()
  readonly #generation: number

  constructor(limit: number) {
    this.#generation = Math.max(1, Math.floor(limit / 2))
  }

  get(key: Key): Value | undefined {
    const value = this.#current.get(key)
    if (value !== undefined) return value
    const older = this.#previous.get(key)
    if (older !== undefined) this.set(key, older)
    return older
  }

  set(key: Key, value: Value): void {
    this.#previous.delete(key)
    this.#current.set(key, value)
    if (this.#current.size >= this.#generation) {
      this.#previous = this.#current
      this.#current = new Map()
    }
  }
}
