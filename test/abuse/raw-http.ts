// An HTTP/1.1 client that sends exactly the bytes it is given. Hand-written because every
// client library (fetch, undici, node:http) refuses to send a malformed request — a CRLF in a
// header, a raw space or a NUL in the path, a lying Content-Length — and sending those is the
// point here. One request per connection (Connection: close), so the response ends when the
// server closes the socket; a Server-Sent Events stream is cut once its head has arrived.
import { connect } from 'node:net'

export interface RawRequest {
  method: string
  /** The request target exactly as it goes on the request line. */
  path: string
  /** Header lines as given (names and values are not checked); Host and Connection are added. */
  headers?: Array<[string, string]>
  body?: Buffer | string
  /** Send no Content-Length for the body (a chunked or lying framing set in headers instead). */
  rawFraming?: boolean
}

export interface RawResponse {
  status: number
  headers: Record<string, string>
  body: Buffer
  /** The body parsed as JSON, or undefined. */
  json: unknown
}

function dechunk (body: Buffer): Buffer {
  const parts: Buffer[] = []
  let offset = 0
  for (;;) {
    const lineEnd = body.indexOf('\r\n', offset)
    if (lineEnd < 0) break
    const size = Number.parseInt(body.subarray(offset, lineEnd).toString('latin1'), 16)
    if (!Number.isFinite(size) || size === 0) break
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size))
    offset = lineEnd + 2 + size + 2
  }
  return Buffer.concat(parts)
}

function parseResponse (raw: Buffer, method: string): RawResponse {
  const headEnd = raw.indexOf('\r\n\r\n')
  if (headEnd < 0) throw new Error(`no complete response head: ${JSON.stringify(raw.subarray(0, 200).toString('latin1'))}`)
  const [statusLine, ...lines] = raw.subarray(0, headEnd).toString('latin1').split('\r\n')
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1])
  if (!Number.isInteger(status)) throw new Error(`not an HTTP status line: ${JSON.stringify(statusLine)}`)
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    const name = line.slice(0, colon).trim().toLowerCase()
    headers[name] = headers[name] === undefined ? line.slice(colon + 1).trim() : `${headers[name]}, ${line.slice(colon + 1).trim()}`
  }
  let body = raw.subarray(headEnd + 4)
  if (method === 'HEAD') body = Buffer.alloc(0)
  else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body)
  let json: unknown
  try {
    json = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined
  } catch {}
  return { status, headers, body, json }
}

/** Sends one request to `baseUrl` (http://host:port) and resolves with the whole response. */
export function rawRequest (baseUrl: string, request: RawRequest, timeoutMs = 45_000): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl)
  const body = request.body === undefined ? undefined : Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body, 'utf8')
  const lines = [`${request.method} ${request.path} HTTP/1.1`, `host: ${hostname}:${port}`, 'connection: close']
  for (const [name, value] of request.headers ?? []) lines.push(`${name}: ${value}`)
  if (body !== undefined && !request.rawFraming) lines.push(`content-length: ${body.length}`)
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')

  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    const chunks: Buffer[] = []
    let settled = false
    const finish = (error?: Error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      if (error) return reject(error)
      try {
        resolve(parseResponse(Buffer.concat(chunks), request.method))
      } catch (err) {
        reject(err)
      }
    }
    const timer = setTimeout(() => { finish(new Error(`no complete answer within ${timeoutMs} ms to ${request.method} ${request.path.slice(0, 100)}`)) }, timeoutMs)
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      const received = Buffer.concat(chunks)
      const headEnd = received.indexOf('\r\n\r\n')
      // A live stream never ends by itself: its head is the answer.
      if (headEnd >= 0 && /content-type:\s*text\/event-stream/i.test(received.subarray(0, headEnd).toString('latin1'))) finish()
    })
    socket.on('end', () => { finish() })
    socket.on('close', () => { finish() })
    // The server may answer and close before the whole body is written (a 413 mid-upload).
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if ((err.code === 'EPIPE' || err.code === 'ECONNRESET') && chunks.length > 0) finish()
      else finish(err)
    })
    socket.write(head)
    if (body !== undefined) socket.write(body)
  })
}
