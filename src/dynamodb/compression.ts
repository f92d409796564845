// gzip through the Web-standard CompressionStream, on every runtime. DynamoDB bills writes by
// the KB of the whole item, so a large session value costs less stored compressed.

export async function gzip(text: string): Promise<Uint8Array> {
  return collect(new Blob([text]).stream().pipeThrough(new CompressionStream('gzip')))
}

export async function gunzip(bytes: Uint8Array): Promise<string> {
  const decompressed = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('gzip'))
  return new TextDecoder().decode(await collect(decompressed))
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer())
}
