// From the proxy's counts to what a request costs: calls by type, capacity units, dollars.
import { type ProxyStats, WRITE_OPERATIONS } from './proxy.ts'

/**
 * DynamoDB on-demand prices, us-east-1, Standard table class, in dollars per million request
 * units: the prices in force since AWS halved on-demand prices on 1 November 2024. Assumed, not
 * fetched: check AWS's DynamoDB pricing page for your region before quoting a bill.
 */
export const PRICES = {
  region: 'us-east-1',
  tableClass: 'Standard',
  readRequestUnitPerMillion: 0.125,
  writeRequestUnitPerMillion: 0.625,
  source:
    'assumed: AWS on-demand prices for us-east-1 since the 2024-11-01 price cut; not fetched by the benchmark',
}

export interface Cost {
  /** DynamoDB calls per request, by operation. */
  callsPerRequest: Record<string, number>
  readUnitsPer1k: number
  writeUnitsPer1k: number
  /** Dollars per million requests, at PRICES. */
  dollarsPerMillion: number
  bytesInPerRequest: number
  bytesOutPerRequest: number
  /** Error responses from DynamoDB by type (e.g. ConditionalCheckFailedException), in total. */
  dynamodbErrors: Record<string, number>
}

export function costOf(stats: ProxyStats, requests: number): Cost {
  const callsPerRequest: Record<string, number> = {}
  const dynamodbErrors: Record<string, number> = {}
  let read = 0
  let write = 0
  let bytesIn = 0
  let bytesOut = 0
  for (const [operation, entry] of Object.entries(stats)) {
    callsPerRequest[operation] = entry.count / requests
    if (WRITE_OPERATIONS.has(operation)) write += entry.capacityUnits
    else read += entry.capacityUnits
    bytesIn += entry.bytesIn
    bytesOut += entry.bytesOut
    for (const [type, count] of Object.entries(entry.errors))
      dynamodbErrors[type] = (dynamodbErrors[type] ?? 0) + count
  }
  const readPerRequest = requests === 0 ? 0 : read / requests
  const writePerRequest = requests === 0 ? 0 : write / requests
  return {
    callsPerRequest,
    readUnitsPer1k: readPerRequest * 1000,
    writeUnitsPer1k: writePerRequest * 1000,
    // Units per request times dollars per million units is dollars per million requests.
    dollarsPerMillion:
      readPerRequest * PRICES.readRequestUnitPerMillion + writePerRequest * PRICES.writeRequestUnitPerMillion,
    bytesInPerRequest: requests === 0 ? 0 : bytesIn / requests,
    bytesOutPerRequest: requests === 0 ? 0 : bytesOut / requests,
    dynamodbErrors,
  }
}
