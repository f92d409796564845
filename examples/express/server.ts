// An Express app on express-session with this library's store: a visit counter, login (with
// regenerate, binding the user through `userId`), logout, and "log out everywhere else". Set
// LEGACY_TABLE to the connect-dynamodb table the app used before, to move its sessions over.
//
//   DYNAMODB_ENDPOINT=http://127.0.0.1:8000 SESSION_SECRET=... tsx examples/express/server.ts
//   AWS_REGION=eu-west-1 SESSION_TABLE=sessions LEGACY_TABLE=old-sessions SESSION_SECRET=... tsx examples/express/server.ts
//
// Create the table first: `npx dynamodb-session create-table --table-name sessions`.
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import express, { type Express } from 'express'
import session from 'express-session'
import { expressSessionStore } from '../../src/adapters/express-session.ts'
import { ConnectDynamoDBTable, DynamoDBStore, destroyUserSessions } from '../../src/index.ts'

declare module 'express-session' {
  interface SessionData {
    visits: number
    userId: string
  }
}

const DynamoDBSessionStore = expressSessionStore(session)

export interface ExampleOptions {
  client: DynamoDBClient
  tableName: string
  secret: string
  /** The connect-dynamodb table to move sessions from, if any. */
  legacyTable?: string | undefined
}

/** The example app; `sessions` is the DynamoDBStore, for "log out everywhere". */
export function createApp({ client, tableName, secret, legacyTable }: ExampleOptions): Express {
  const sessions = new DynamoDBStore({ client, tableName })
  const legacy = legacyTable ? new ConnectDynamoDBTable({ client, tableName: legacyTable }) : undefined
  const app = express()
  app.use(
    session({
      secret,
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 14 * 86_400_000, httpOnly: true, sameSite: 'lax', secure: 'auto' },
      store: new DynamoDBSessionStore({ store: sessions, ...(legacy ? { legacy } : {}) }),
    }),
  )
  app.get('/', (req, res) => {
    req.session.visits = (req.session.visits ?? 0) + 1
    res.send(`${req.session.userId ?? 'guest'}: visit ${req.session.visits}`)
  })
  app.post('/login', (req, res, next) => {
    const user = String(req.query.user ?? '')
    if (!/^[\w-]{1,64}$/.test(user)) return void res.status(400).send('?user= must be a user name')
    // A new id at login (no session fixation); the user is bound through the `userId` field.
    req.session.regenerate((error) => {
      if (error) return next(error)
      req.session.userId = user
      res.send(`welcome ${user}`)
    })
  })
  app.post('/logout', (req, res, next) => {
    req.session.destroy((error) => (error ? next(error) : res.clearCookie('connect.sid').send('bye')))
  })
  app.post('/logout-everywhere-else', async (req, res, next) => {
    const user = req.session.userId
    if (!user) return void res.status(401).send('log in first')
    try {
      const ended = await destroyUserSessions(sessions, user, { except: { id: req.sessionID } })
      res.send(`ended ${ended} other sessions`)
    } catch (error) {
      next(error)
    }
  })
  return app
}

function isMain(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isMain()) {
  const secret = process.env.SESSION_SECRET
  if (!secret || secret.length < 32) throw new Error('Set SESSION_SECRET to at least 32 random characters.')
  const endpoint = process.env.DYNAMODB_ENDPOINT
  const client = new DynamoDBClient(
    endpoint
      ? { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {},
  )
  const app = createApp({
    client,
    tableName: process.env.SESSION_TABLE || 'sessions',
    secret,
    legacyTable: process.env.LEGACY_TABLE,
  })
  const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
    const address = server.address()
    console.log(`Express demo on http://127.0.0.1:${typeof address === 'object' ? address?.port : address}`)
  })
}
