// The documented defaults of the expiry options, with none of them given: maxStale 1209600 s
// (14 days) and touchAfter min(3600, maxStale / 10).
import type { DynamoDBClient, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb'
import { describe, expect, it } from 'vitest'
import { scanAll } from '../support/dynamodb.ts'
import { app, at, count, dynamoStore, epoch, readCount, useFixedClock } from '../support/harness.ts'

const FOURTEEN_DAYS = 1209600

/** The input of every UpdateItem the client sends from now on. */
function updateInputs(client: DynamoDBClient): UpdateItemCommandInput[] {
  const inputs: UpdateItemCommandInput[] = []
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'UpdateItemCommand') inputs.push(args.input as UpdateItemCommandInput)
      return next(args)
    },
    { step: 'initialize', name: 'defaultsTestUpdateInputs' },
  )
  return inputs
}

/** The attributes an update expression of SET clauses only writes; undefined for any other clause. */
function attributesSet(input: UpdateItemCommandInput | undefined): string[] | undefined {
  const { UpdateExpression: expression = '', ExpressionAttributeNames: names = {} } = input ?? {}
  const clauses = /^SET (.*)$/.exec(expression)?.[1]
  if (clauses === undefined || /\b(REMOVE|ADD|DELETE)\b/.test(clauses)) return undefined
  return clauses
    .split(',')
    .map((clause) => clause.split('=')[0]?.trim() ?? '')
    .map((path) => names[path] ?? path)
    .sort()
}

describe('with no expiry options', () => {
  useFixedClock()

  it('stores expire_at = updated_at + 1209600 (14 days), when created and when updated', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store)
    const { cookie } = await sessions.send(count)
    const [created] = await scanAll(env.client, env.tableName)
    expect(created?.created_at).toEqual({ N: String(epoch(0)) })
    expect(created?.updated_at).toEqual({ N: String(epoch(0)) })
    expect(created?.expire_at).toEqual({ N: String(epoch(FOURTEEN_DAYS)) })

    at(7200)
    expect((await sessions.send(count, cookie?.value)).body).toBe('2')
    const [updated] = await scanAll(env.client, env.tableName)
    expect(updated?.updated_at).toEqual({ N: String(epoch(7200)) })
    expect(updated?.expire_at).toEqual({ N: String(epoch(7200 + FOURTEEN_DAYS)) })
    expect(updated?.created_at).toEqual({ N: String(epoch(0)) })
  })

  it('expires a session left idle for 14 days', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store)
    const [first, second] = [await sessions.send(count), await sessions.send(count)]
    at(FOURTEEN_DAYS - 1)
    expect((await sessions.send(readCount, first.cookie?.value)).body).toBe('1')
    at(FOURTEEN_DAYS)
    expect((await sessions.send(readCount, second.cookie?.value)).body).toBe('0')
  })

  it('touches an unchanged session once 3600 s have passed, not at 3599, writing only updated_at and expire_at', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store)
    const { cookie } = await sessions.send(count)
    const [before] = await scanAll(env.client, env.tableName)
    const updates = updateInputs(env.client)

    env.counter.reset()
    at(3599)
    expect((await sessions.send(readCount, cookie?.value)).body).toBe('1')
    expect(env.counter.calls).toEqual(['GetItemCommand'])
    expect(await scanAll(env.client, env.tableName)).toEqual([before])

    env.counter.reset()
    at(3600)
    const touched = await sessions.send(readCount, cookie?.value)
    expect(touched.body).toBe('1')
    expect(env.counter.calls).toEqual(['GetItemCommand', 'UpdateItemCommand'])
    expect(touched.cookie).toBeUndefined() // a browser-session cookie needs no renewal
    expect(updates).toHaveLength(1)
    expect(attributesSet(updates[0])).toEqual(['expire_at', 'updated_at'])
    expect(await scanAll(env.client, env.tableName)).toEqual([
      {
        ...before,
        updated_at: { N: String(epoch(3600)) },
        expire_at: { N: String(epoch(3600 + FOURTEEN_DAYS)) },
      },
    ])

    // The next touch is due 3600 s after this one.
    env.counter.reset()
    at(7199)
    await sessions.send(readCount, cookie?.value)
    expect(env.counter.calls).toEqual(['GetItemCommand'])
  })

  it('touches after maxStale / 10 when that is below 3600 s', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store, { maxStale: 600 }) // touchAfter left to its default: 60
    const { cookie } = await sessions.send(count)

    env.counter.reset()
    at(59)
    await sessions.send(readCount, cookie?.value)
    expect(env.counter.calls).toEqual(['GetItemCommand'])

    env.counter.reset()
    at(60)
    await sessions.send(readCount, cookie?.value)
    expect(env.counter.calls).toEqual(['GetItemCommand', 'UpdateItemCommand'])
    const [touched] = await scanAll(env.client, env.tableName)
    expect(touched?.expire_at).toEqual({ N: String(epoch(660)) })
  })
})
