// What `encrypt: true` adds to a stored value, as DynamoDB bills it (the README's "Encryption at
// rest" quotes this): each value is stored as the JSON text of its iron seal instead of its own
// JSON text. `npx tsx bench/sealed-size.ts`
import { createSealer } from '../src/core/sealing.ts'

const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789'
const sealer = createSealer([SECRET], true)
const bytes = (text: string) => new TextEncoder().encode(text).length

const rows = []
for (const value of [
  'a',
  'x'.repeat(1000),
  'x'.repeat(10_000),
  { user: 'ada', roles: ['admin'], cart: [1, 2, 3] },
]) {
  const plain = bytes(JSON.stringify(value))
  const sealed = bytes(JSON.stringify(await sealer.encode(value)))
  rows.push({ 'plain bytes': plain, 'sealed bytes': sealed, added: sealed - plain })
}
console.table(rows)
