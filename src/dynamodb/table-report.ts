import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndexDescription,
  type TableDescription,
} from '@aws-sdk/client-dynamodb'
import { TableError } from '../errors.ts'
import type { TableLayout } from './options.ts'
import { send } from './sdk-errors.ts'

/** What `checkTable` found. `problems` is empty when the table suits the store's options. */
export interface TableReport {
  tableName: string
  exists: boolean
  /** 'ACTIVE' once usable; 'CREATING', 'UPDATING', 'DELETING' on the way. */
  status: string | undefined
  partitionKey: { name: string; type: string } | undefined
  sortKey: { name: string; type: string } | undefined
  billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED' | undefined
  readCapacity: number | undefined
  writeCapacity: number | undefined
  /** TTL's status ('ENABLED', 'ENABLING', 'DISABLED', 'DISABLING') and its attribute. */
  ttl: { status: string; attribute: string | undefined } | undefined
  /** The user index that `listUserSessions()` and `destroyUserSessions()` query, if the table has it. */
  userIndex: { name: string; status: string | undefined; attribute: string | undefined } | undefined
  /** DynamoDB's approximate item count, refreshed about every six hours. */
  itemCount: number | undefined
  /** What keeps the store from working as configured, each with how to fix it. */
  problems: string[]
  /** What works but could be better, each with how to fix it. */
  warnings: string[]
}

const CREATE_TABLE = '`npx dynamodb-session create-table` (or createTable())'

/** Describes the table and its TTL and judges both against the layout; a missing table is a problem. */
export async function inspectTable(client: DynamoDBClient, layout: TableLayout): Promise<TableReport> {
  let table: TableDescription
  try {
    table = await describeTable(client, layout)
  } catch (error) {
    if (!(error instanceof TableError && error.code === 'TABLE_NOT_FOUND')) throw error
    return { ...missingTable(layout.tableName) }
  }
  const ttl = await describeTimeToLive(client, layout)
  const key = (type: 'HASH' | 'RANGE') => {
    const name = table.KeySchema?.find((element) => element.KeyType === type)?.AttributeName
    return name === undefined ? undefined : { name, type: attributeType(table, name) ?? 'unknown' }
  }
  const provisioned = table.BillingModeSummary?.BillingMode !== 'PAY_PER_REQUEST'
  const index = userIndexOf(table, layout)
  const problems = [
    ...keyProblems(table, layout),
    ...(table.TableStatus === 'ACTIVE' ? [] : [`The table is ${table.TableStatus}, not ACTIVE.`]),
    ...ttlProblems(layout, ttl.status, ttl.attribute),
    ...(index ? userIndexProblems(table, index, layout) : []),
  ]
  const warnings = index
    ? []
    : [
        `It has no index "${layout.userIndex}" on "${layout.userAttribute}", which listUserSessions() and destroyUserSessions() need: ${CREATE_TABLE} adds it.`,
      ]
  return {
    tableName: layout.tableName,
    exists: true,
    status: table.TableStatus,
    partitionKey: key('HASH'),
    sortKey: key('RANGE'),
    billingMode: provisioned ? 'PROVISIONED' : 'PAY_PER_REQUEST',
    readCapacity: provisioned ? table.ProvisionedThroughput?.ReadCapacityUnits : undefined,
    writeCapacity: provisioned ? table.ProvisionedThroughput?.WriteCapacityUnits : undefined,
    ttl,
    userIndex: index && {
      name: layout.userIndex,
      status: index.IndexStatus,
      attribute: index.KeySchema?.find((element) => element.KeyType === 'HASH')?.AttributeName,
    },
    itemCount: table.ItemCount,
    problems,
    warnings,
  }
}

function missingTable(tableName: string): TableReport {
  return {
    tableName,
    exists: false,
    status: undefined,
    partitionKey: undefined,
    sortKey: undefined,
    billingMode: undefined,
    readCapacity: undefined,
    writeCapacity: undefined,
    ttl: undefined,
    userIndex: undefined,
    itemCount: undefined,
    problems: [`Table "${tableName}" does not exist: create it with ${CREATE_TABLE}.`],
    warnings: [],
  }
}

/** What is wrong with the table's keys for these options; the store writes string keys only. */
export function keyProblems(table: TableDescription, layout: TableLayout): string[] {
  const hash = table.KeySchema?.find((element) => element.KeyType === 'HASH')?.AttributeName
  const range = table.KeySchema?.find((element) => element.KeyType === 'RANGE')?.AttributeName
  const problems: string[] = []
  if (hash !== layout.keyAttribute) {
    problems.push(
      `Its partition key is "${hash}", not "${layout.keyAttribute}": set keyAttribute to "${hash}" or use another table.`,
    )
  } else if (attributeType(table, hash) !== 'S') {
    problems.push(
      `Its partition key "${hash}" is of type ${attributeType(table, hash)}, but session keys are strings (S): use another table.`,
    )
  }
  if (layout.sortKey === undefined && range !== undefined) {
    problems.push(
      `It has the sort key "${range}": set sortKey to { attribute: "${range}", value: "<the sort key of session items>" }.`,
    )
  } else if (layout.sortKey !== undefined && range !== layout.sortKey.attribute) {
    problems.push(
      range === undefined
        ? `It has no sort key, but sortKey names "${layout.sortKey.attribute}": remove sortKey or use another table.`
        : `Its sort key is "${range}", not "${layout.sortKey.attribute}": set sortKey.attribute to "${range}".`,
    )
  } else if (range !== undefined && attributeType(table, range) !== 'S') {
    problems.push(
      `Its sort key "${range}" is of type ${attributeType(table, range)}, but the session sort key value is a string (S): use another table.`,
    )
  }
  return problems
}

/** TTL must be on the expiry attribute; anything else leaves expired sessions in the table. */
export function ttlProblems(layout: TableLayout, status: string, attribute: string | undefined): string[] {
  const expires = layout.expiresAttribute
  const turnOn = `run ${CREATE_TABLE}, which turns TTL on for an existing table, or \`aws dynamodb update-time-to-live --table-name ${layout.tableName} --time-to-live-specification Enabled=true,AttributeName=${expires}\``
  if (status === 'DISABLED') {
    return [`TTL is off, so expired sessions stay in the table until gc deletes them: ${turnOn}.`]
  }
  if (status === 'DISABLING') return [`TTL is being turned off; once it is off, ${turnOn}.`]
  if (attribute !== expires) {
    return [
      `TTL is on "${attribute}", but sessions expire by "${expires}": set expiresAttribute to "${attribute}", or turn TTL off and then on for "${expires}" (DynamoDB allows one change an hour).`,
    ]
  }
  return []
}

/** The index must be keyed by the user attribute and hold the times the store reads from it. */
export function userIndexProblems(
  table: TableDescription,
  index: GlobalSecondaryIndexDescription,
  layout: TableLayout,
): string[] {
  const hash = index.KeySchema?.find((element) => element.KeyType === 'HASH')?.AttributeName
  const fix = `delete the index "${layout.userIndex}" and run ${CREATE_TABLE}, or set userIndex to another name`
  if (hash !== layout.userAttribute || attributeType(table, hash) !== 'S') {
    return [
      `Its index "${layout.userIndex}" is keyed by "${hash}" (${hash && attributeType(table, hash)}), not by "${layout.userAttribute}" (S): ${fix}.`,
    ]
  }
  return []
}

export function userIndexOf(
  table: TableDescription,
  layout: TableLayout,
): GlobalSecondaryIndexDescription | undefined {
  return table.GlobalSecondaryIndexes?.find((index) => index.IndexName === layout.userIndex)
}

function attributeType(table: TableDescription, name: string): string | undefined {
  return table.AttributeDefinitions?.find((attribute) => attribute.AttributeName === name)?.AttributeType
}

export async function describeTable(client: DynamoDBClient, layout: TableLayout): Promise<TableDescription> {
  const { Table: table } = await send('DescribeTable', layout, () =>
    client.send(new DescribeTableCommand({ TableName: layout.tableName })),
  )
  if (!table)
    throw new TableError('REQUEST_FAILED', `DescribeTable on "${layout.tableName}" returned no table.`)
  return table
}

/**
 * The table's TTL: its status ('DISABLED' when DynamoDB gives none) and attribute.
 *
 * @example
 * const { status, attribute } = await describeTimeToLive(client, layout)
 */
export async function describeTimeToLive(
  client: DynamoDBClient,
  layout: TableLayout,
): Promise<{ status: string; attribute: string | undefined }> {
  const { TimeToLiveDescription: ttl } = await send('DescribeTimeToLive', layout, () =>
    client.send(new DescribeTimeToLiveCommand({ TableName: layout.tableName })),
  )
  return { status: ttl?.TimeToLiveStatus ?? 'DISABLED', attribute: ttl?.AttributeName }
}
