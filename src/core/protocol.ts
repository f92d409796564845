// Whether a request reached the app over TLS, for the cookie options set to 'auto'. The request's
// own URL decides; the headers a reverse proxy adds (X-Forwarded-Proto, Forwarded) are honoured
// only when the app says it runs behind one (`trustProxy`), because without a proxy that
// overwrites them any client can send them.

/**
 * True when `request` came over TLS: its URL is https:, or `trustProxy` is set and the proxy says
 * the client's request was https (X-Forwarded-Proto's first value, else the first `proto=` of
 * Forwarded). An https: URL is never downgraded by a header, as express-session does.
 *
 * @example
 * isTlsRequest(new Request('http://app.test/', { headers: { 'x-forwarded-proto': 'https' } }), true) // true
 */
export function isTlsRequest(request: Request, trustProxy: boolean): boolean {
  if (request.url.startsWith('https:')) return true
  return trustProxy && forwardedProtocol(request.headers) === 'https'
}

/** The client's protocol as the nearest proxy reports it, lower case, or undefined. */
function forwardedProtocol(headers: Headers): string | undefined {
  const xForwardedProto = headers.get('x-forwarded-proto')
  // A chain of proxies may list several, client's first: "https, http".
  if (xForwardedProto !== null) return xForwardedProto.split(',')[0]?.trim().toLowerCase()
  const forwarded = headers.get('forwarded')
  return forwarded === null ? undefined : protoOfFirstElement(forwarded)
}

/** RFC 7239: `for=192.0.2.60;proto=https;by=203.0.113.43, for=…`; the first element is the client's. */
function protoOfFirstElement(forwarded: string): string | undefined {
  let end = 0
  let quoted = false
  // Commas inside a quoted value ("[2001:db8::1]:4711") do not end the element.
  while (end < forwarded.length && (quoted || forwarded[end] !== ',')) {
    if (forwarded[end] === '"') quoted = !quoted
    end++
  }
  const match = /(?:^|;)\s*proto\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(forwarded.slice(0, end))
  return (match?.[1] ?? match?.[2])?.toLowerCase()
}
