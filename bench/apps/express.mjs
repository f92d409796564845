// The comparison: Express with express-session and connect-dynamodb, configured as their READMEs
// recommend for a store that supports touch (resave: false, saveUninitialized: false); the same
// app with this library's express-session store instead; and a bare Express app for reference. Plain JavaScript, so the benchmark needs no @types packages
// for the libraries it compares against.
import connectDynamoDB from 'connect-dynamodb'
import express from 'express'
import session from 'express-session'
import { expressSessionStore } from '../../src/adapters/express-session.ts'
import { DynamoDBStore } from '../../src/index.ts'
import { largeSession, smallSession } from '../data.ts'

export const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789'
const FOURTEEN_DAYS_MS = 14 * 24 * 60 * 60 * 1000

/**
 * The session store of each Express system: connect-dynamodb, or this library's express-session
 * store over a DynamoDBStore (the migration guide's setup).
 * @param {'connect-dynamodb' | 'dynamodb-session'} kind
 * @param {import('@aws-sdk/client-dynamodb').DynamoDBClient} client
 * @param {string} table
 */
function storeOf(kind, client, table) {
  if (kind === 'dynamodb-session') {
    const DynamoDBSessionStore = expressSessionStore(session)
    return new DynamoDBSessionStore({ store: new DynamoDBStore({ client, tableName: table }) })
  }
  const ConnectDynamoDBStore = connectDynamoDB({ session })
  return new ConnectDynamoDBStore({ client, table, hashKey: 'id' })
}

/**
 * @param {import('@aws-sdk/client-dynamodb').DynamoDBClient | undefined} client undefined: no sessions
 * @param {string} table
 * @param {'connect-dynamodb' | 'dynamodb-session'} [kind]
 */
export function expressApp(client, table, kind = 'connect-dynamodb') {
  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false) // Hono sends none either
  if (client) {
    app.use(
      session({
        name: 'sid',
        secret: SECRET,
        resave: false,
        saveUninitialized: false,
        // The same idle lifetime as the library's default maxStale.
        cookie: { secure: false, httpOnly: true, sameSite: 'lax', maxAge: FOURTEEN_DAYS_MS },
        store: storeOf(kind, client, table),
      }),
    )
  }
  let sequence = 0
  const data = (req) => req.session ?? {}

  app.post('/seed', (req, res) => {
    Object.assign(data(req), smallSession(Number(req.query.i ?? 0)))
    res.type('text').send('seeded')
  })
  app.post('/seed-large', (req, res) => {
    Object.assign(data(req), largeSession(Number(req.query.i ?? 0)))
    res.type('text').send('seeded')
  })
  app.get('/none', (_req, res) => res.type('text').send('no session here'))
  app.get('/read', (req, res) => res.type('text').send(`hello ${data(req).user ?? 'user-0'}`))
  app.post('/write', (req, res) => {
    const session = data(req)
    session.count = Number(session.count ?? 0) + 1
    res.type('text').send(String(session.count))
  })
  app.post('/blind', (req, res) => {
    sequence += 1
    data(req).seenAt = sequence
    res.type('text').send('noted')
  })
  app.get('/large/read', (req, res) => res.type('text').send(`${data(req).history?.length ?? 0} items`))
  app.post('/large/write', (req, res) => {
    const session = data(req)
    session.count = Number(session.count ?? 0) + 1
    res.type('text').send(String(session.count))
  })
  return app
}
