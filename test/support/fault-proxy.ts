// A loopback HTTP proxy in front of DynamoDB Local that counts operations and injects faults:
// throttling, 5xx, dropped connections (before or after DynamoDB applied the request), slow
// responses and responses that never come. The data still lives in DynamoDB Local.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export type Fault =
  | { kind: 'throttle' }
  | { kind: 'server-error' }
  | { kind: 'drop' } // the connection dies before DynamoDB sees the request
  | { kind: 'drop-after' } // DynamoDB applies the request, then the connection dies
  | { kind: 'slow'; ms: number }
  | { kind: 'hang' }

interface Rule {
  fault: Fault
  operation: string | undefined
  times: number
}

export async function startFaultProxy(target: string) {
  const rules: Rule[] = []
  const operations: string[] = []
  const hanging = new Set<ServerResponse>()

  const forward = async (request: IncomingMessage, body: Buffer) => {
    const headers = new Headers()
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string' && name !== 'host' && name !== 'connection') headers.set(name, value)
    }
    return fetch(target, { method: 'POST', headers, body: new Uint8Array(body) })
  }

  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown'
    operations.push(operation)

    const rule = rules.find(
      (candidate) => candidate.times > 0 && (candidate.operation ?? operation) === operation,
    )
    if (rule) rule.times -= 1
    const fault = rule?.fault

    const reply = async (upstream: Response) => {
      response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? '' })
      response.end(Buffer.from(await upstream.arrayBuffer()))
    }
    switch (fault?.kind) {
      case 'throttle':
        return error(
          response,
          400,
          'ProvisionedThroughputExceededException',
          'Rate of requests exceeds the allowed throughput.',
        )
      case 'server-error':
        return error(response, 500, 'InternalServerError', 'Injected internal server error.')
      case 'drop':
        return request.socket.destroy()
      case 'drop-after':
        await forward(request, body)
        return request.socket.destroy()
      case 'hang':
        hanging.add(response)
        return
      case 'slow':
        await new Promise((resolve) => setTimeout(resolve, fault.ms))
        return reply(await forward(request, body))
      default:
        return reply(await forward(request, body))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    endpoint: `http://127.0.0.1:${port}`,
    /** Every operation that reached the proxy, e.g. 'GetItem', in order. */
    operations,
    /** The next `times` requests (of `operation`, or of any) meet `fault`. */
    inject(fault: Fault, { times = 1, operation }: { times?: number; operation?: string } = {}) {
      rules.push({ fault, operation, times })
    },
    clear() {
      rules.length = 0
      operations.length = 0
    },
    async close() {
      for (const response of hanging) response.destroy()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

function error(response: ServerResponse, status: number, type: string, message: string) {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' })
  response.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }))
}
