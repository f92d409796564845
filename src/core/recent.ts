/**
 * A small map that forgets its least recently used entries past about `limit`: for results that
 * are costly to compute and safe to reuse, such as a cookie's signature check.
 *
 * Two generations instead of an exact LRU order: a hit in the current one costs one Map lookup
 * (no reordering on every read), a hit in the previous one moves the entry to the current one,
 * and once the current one holds half the limit the previous one is dropped. So at most `limit`
 * is held, and any working set of up to half of it stays. The limit counts entries, or what
 * `weigh` says each entry weighs (say, its characters); an entry over a tenth of it is not kept.
 */
export class RecentMap<Key, Value> {
  #current = new Map<Key, Value>()
  #previous = new Map<Key, Value>()
  #currentWeight = 0
  readonly #generation: number
  readonly #weigh: (key: Key, value: Value) => number

  constructor(limit: number, weigh: (key: Key, value: Value) => number = () => 1) {
    this.#generation = Math.max(1, Math.floor(limit / 2))
    this.#weigh = weigh
  }

  get(key: Key): Value | undefined {
    const value = this.#current.get(key)
    if (value !== undefined) return value
    const older = this.#previous.get(key)
    if (older !== undefined) this.set(key, older)
    return older
  }

  set(key: Key, value: Value): void {
    const weight = this.#weigh(key, value)
    if (weight > this.#generation / 5) return
    this.#previous.delete(key)
    if (!this.#current.has(key)) this.#currentWeight += weight
    this.#current.set(key, value)
    if (this.#currentWeight >= this.#generation) {
      this.#previous = this.#current
      this.#current = new Map()
      this.#currentWeight = 0
    }
  }
}
