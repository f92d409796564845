// A user's sessions, for listUserSessions() and destroyUserSessions(): the user index gives the
// keys, the table itself the times. The index holds only keys, so that a session's writes never
// write the index too; reading the times from the table, strongly consistent, also drops index
// entries of sessions already deleted.
import { BatchGetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb'
import { SessionStoreError } from '../errors.ts'
import { nowInSeconds, type UserSession } from '../store/store.ts'
import type { Send } from './client.ts'
import { type Item, isOwnItem, itemKey, sessionKeyOf, timesOf } from './item.ts'
import type { TableLayout } from './options.ts'
import { backoff } from './retry.ts'

/** BatchGetItem takes at most 100 keys; unprocessed ones are asked again a few times. */
const BATCH_GET_LIMIT = 100
const BATCH_GET_ATTEMPTS = 5

/**
 * The live sessions bound to `userId`, with their times.
 *
 * @example
 * const sessions = await findUserSessions((operation, command) => command(client, { abortSignal }), layout, 'user-1')
 */
export async function findUserSessions(
  send: Send,
  layout: TableLayout,
  userId: string,
): Promise<UserSession[]> {
  const keys = await indexedKeys(send, layout, userId)
  const sessions: UserSession[] = []
  for (let first = 0; first < keys.length; first += BATCH_GET_LIMIT) {
    sessions.push(...(await liveSessions(send, layout, keys.slice(first, first + BATCH_GET_LIMIT), userId)))
  }
  return sessions
}

/** Every storage key the user index holds for `userId`, page by page. */
async function indexedKeys(send: Send, layout: TableLayout, userId: string): Promise<string[]> {
  const keys: string[] = []
  let start: Item | undefined
  do {
    const exclusiveStartKey = start
    const page = await send('Query', (client, options, capacity) =>
      client.send(
        new QueryCommand({
          TableName: layout.tableName,
          IndexName: layout.userIndex,
          KeyConditionExpression: '#user = :user',
          ExpressionAttributeNames: { '#user': layout.userAttribute },
          ExpressionAttributeValues: { ':user': { S: userId } },
          ExclusiveStartKey: exclusiveStartKey,
          ...capacity,
        }),
        options,
      ),
    )
    for (const item of page.Items ?? []) {
      if (isOwnItem(item, layout)) keys.push(sessionKeyOf(item, layout))
    }
    start = page.LastEvaluatedKey
  } while (start)
  return keys
}

/** The times of up to 100 live sessions still bound to `userId`, by BatchGetItem. */
async function liveSessions(
  send: Send,
  layout: TableLayout,
  keys: string[],
  userId: string,
): Promise<UserSession[]> {
  const found: UserSession[] = []
  const now = nowInSeconds()
  let pending: Item[] = keys.map((key) => itemKey(layout, key))
  for (let attempt = 1; pending.length > 0; attempt++) {
    if (attempt > BATCH_GET_ATTEMPTS) {
      throw new SessionStoreError(
        `BatchGetItem on table "${layout.tableName}"`,
        new Error('keys left unprocessed'),
      )
    }
    const request = pending
    const answer = await send('BatchGetItem', (client, options, capacity) =>
      client.send(
        new BatchGetItemCommand({
          RequestItems: { [layout.tableName]: timesOfKeys(layout, request) },
          ...capacity,
        }),
        options,
      ),
    )
    for (const item of answer.Responses?.[layout.tableName] ?? []) {
      const times = timesOf(item, layout)
      if (!(times.expiresAt > now) || item[layout.userAttribute]?.S !== userId) continue
      found.push({ key: sessionKeyOf(item, layout), ...times })
    }
    pending = answer.UnprocessedKeys?.[layout.tableName]?.Keys ?? []
    // The pause before attempt n + 1 is up to 50 ms × 2^n.
    if (pending.length > 0) await backoff(attempt + 1)
  }
  return found
}

/** A strongly consistent read of only the key, the times and the user of each item. */
function timesOfKeys(layout: TableLayout, keys: Item[]) {
  return {
    Keys: keys,
    ConsistentRead: true,
    ProjectionExpression: '#key, #created, #updated, #expires, #user',
    ExpressionAttributeNames: {
      '#key': layout.keyAttribute,
      '#created': layout.createdAttribute,
      '#updated': layout.updatedAttribute,
      '#expires': layout.expiresAttribute,
      '#user': layout.userAttribute,
    },
  }
}
