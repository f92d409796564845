// The session data every system stores, the same for all of them and the same on every run
// (no Math.random), so that item sizes, and so the capacity units, compare across runs.

/** A typical logged-in session: a user, roles, a small cart, a counter. About 250 bytes of JSON. */
export function smallSession(index: number): Record<string, unknown> {
  return {
    user: `user-${index}`,
    roles: ['reader', 'commenter'],
    locale: 'en-GB',
    cart: [
      { sku: `SKU-${(index * 7919) % 100000}`, qty: 1, price: 19.99 },
      { sku: `SKU-${(index * 104729) % 100000}`, qty: 2, price: 4.5 },
    ],
    csrf: `csrf-${index.toString(36).padStart(8, '0')}`,
    count: 0,
  }
}

/**
 * The session of issue 12's hot-path numbers, about 1.2 KB of JSON: a user object, a profile of
 * about 1 KB and a counter.
 */
export function profileSession(index: number): Record<string, unknown> {
  const about = `Reads ${WORDS.slice(0, 8).join(', ')}. `.repeat(16).slice(0, 1100)
  return {
    user: {
      id: `user-${index}`,
      name: `User ${index}`,
      email: `user-${index}@example.com`,
      roles: ['reader'],
    },
    profile: { about, locale: 'en-GB', timezone: 'Europe/London', theme: 'dark', newsletter: true },
    count: 0,
  }
}

const WORDS = [
  'blue',
  'cotton',
  'shirt',
  'linen',
  'trousers',
  'wool',
  'scarf',
  'leather',
  'boots',
  'silk',
  'tie',
  'denim',
  'jacket',
  'canvas',
  'bag',
  'steel',
  'watch',
  'green',
  'summer',
  'dress',
]

/**
 * A large session: the small one plus `history`, a list of recently viewed products of about
 * `bytes` bytes of JSON (50 KB by default). Product records repeat their shape and draw words
 * from a short list, as real ones do, so it compresses about as well as real session data; it
 * is not random bytes, which nothing compresses.
 */
export function largeSession(index: number, bytes = 50 * 1024): Record<string, unknown> {
  const history: Record<string, unknown>[] = []
  let size = 2
  for (let item = 0; size < bytes; item++) {
    const seed = (index * 31 + item) * 2654435761
    const word = (shift: number) => WORDS[(seed >>> shift) % WORDS.length]
    const record = {
      sku: `SKU-${(seed >>> 3) % 1000000}`,
      name: `${word(1)} ${word(5)} ${word(9)}`,
      price: ((seed >>> 7) % 20000) / 100,
      viewedAt: new Date(Date.UTC(2026, 0, 1) + item * 61_000).toISOString(),
    }
    size += JSON.stringify(record).length + 1
    history.push(record)
  }
  return { ...smallSession(index), history }
}
