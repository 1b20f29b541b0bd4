/// Reads into the server's one reused buffer (reused-reads.ts) over a real loopback server: the fast
/// path is taken on this Node, and every byte the server keeps past a read (pipelined requests held
/// while one is answered, headers split across reads, the echoed HTTP headers and bodies) comes back
/// intact although later reads overwrite the buffer it arrived in.
import assert from 'node:assert/strict'
import { createServer, connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { MemoryBodyStore, allowAnswer, type IcapAnswer, type IcapHandler, type IcapTransactionInfo, type ReceivedBody } from '../index.js'
import { readIntoReusedBuffer, reusedReadBytes } from '../reused-reads.js'
import { TestClient, request, statusOf } from './client.js'
import { serveSuite } from './serve.js'

/// Echoes every body back unchanged (no Allow: 204 in these requests: a 200 with the stored body).
class EchoHandler implements IcapHandler<Buffer> {
  readonly bodies = new MemoryBodyStore()
  /// How long respond() takes: a slow answer lets pipelined bytes pile up past the hold limit.
  delayMs = 0
  istag (): string { return '"r-1"' }
  async respond (tx: IcapTransactionInfo, body: ReceivedBody<Buffer> | undefined): Promise<IcapAnswer<Buffer>> {
    if (this.delayMs > 0) await new Promise(resolve => setTimeout(resolve, this.delayMs))
    return allowAnswer(tx.echoNeeded ? body?.stored : undefined, 'clean')
  }
}

/// The HTTP header block and the de-chunked body of one 200 echo.
function echoOf (response: string): { http: string, body: Buffer } {
  const bytes = Buffer.from(response, 'latin1')
  const icapEnd = bytes.indexOf('\r\n\r\n')
  // The echo has the request's HTTP request header first when the client sent it; take the last block.
  const httpStart = bytes.indexOf('HTTP/1.1 200', icapEnd)
  const httpEnd = bytes.indexOf('\r\n\r\n', httpStart) + 4
  const parts: Buffer[] = []
  for (let at = httpEnd; ;) {
    const line = bytes.indexOf('\r\n', at)
    const size = parseInt(bytes.toString('latin1', at, line), 16)
    if (size === 0) break
    parts.push(bytes.subarray(line + 2, line + 2 + size))
    at = line + 2 + size + 2
  }
  return { http: bytes.toString('latin1', httpStart, httpEnd), body: Buffer.concat(parts) }
}

const pause = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('icap-server-lite reads into one reused buffer', () => {
  const handler = new EchoHandler()
  const suite = serveSuite(handler, { maxBodyBytes: 4 << 20 })
  afterEach(() => { handler.delayMs = 0 })

  it('takes the reused buffer on a plain accepted socket of this Node', async () => {
    const buffer = Buffer.alloc(reusedReadBytes)
    const got: Buffer[] = []
    const server = createServer(socket => {
      assert.equal(readIntoReusedBuffer(socket, buffer, chunk => { got.push(Buffer.from(chunk)) }), true)
      socket.on('end', () => { socket.end() })
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const client: Socket = connect((server.address() as { port: number }).port, '127.0.0.1')
    const sent = randomBytes(300_000)
    client.end(sent)
    await once(client, 'close')
    server.close()
    assert.deepEqual(Buffer.concat(got), sent)
    // The reads landed in the one buffer (its head holds the bytes of some read).
    assert.ok(got.some(chunk => buffer.subarray(0, chunk.length).equals(chunk)))
  })

  it('answers pipelined requests written at once with each one\'s own headers and body', async () => {
    const bodies = Array.from({ length: 6 }, (_, i) => randomBytes(30_000 + 1_111 * i))
    const client = await TestClient.open(suite.port)
    try {
      // ~190 KiB in one write: while the first is answered the rest is held, over several reads.
      client.socket.write(Buffer.concat(bodies.map(body => request({ body }).whole)))
      const responses = await client.wait(bodies.length)
      assert.equal(responses.length, bodies.length)
      responses.forEach((response, i) => {
        assert.equal(statusOf(response), 200)
        const echo = echoOf(response)
        assert.match(echo.http, new RegExp(`Content-Length: ${bodies[i]!.length}\r\n`))
        assert.ok(echo.body.equals(bodies[i]!), `body ${i} echoed intact`)
      })
    } finally {
      client.destroy()
    }
  })

  it('answers a request whose headers and preview arrive a few bytes per read', async () => {
    const body = randomBytes(70_000)
    const { first, rest } = request({ body, preview: 16 })
    const client = await TestClient.open(suite.port)
    try {
      for (let at = 0; at < first.length; at += 7) {
        client.socket.write(first.subarray(at, at + 7))
        await pause(1)
      }
      assert.equal(statusOf((await client.wait(1))[0]), 100)
      client.socket.write(rest)
      const responses = await client.wait(2)
      const echo = echoOf(responses[1]!)
      assert.match(echo.http, new RegExp(`Content-Length: ${body.length}\r\n`))
      assert.ok(echo.body.equals(body))
    } finally {
      client.destroy()
    }
  })

  it('pauses reading past the hold limit while a slow answer is pending, resumes, and loses no byte', async () => {
    handler.delayMs = 150
    const bodies = Array.from({ length: 4 }, (_, i) => randomBytes(700_000 + i))
    const client = await TestClient.open(suite.port)
    try {
      // ~2.8 MiB at once: past the first request more than the 1 MiB hold limit waits (paused reads).
      client.socket.write(Buffer.concat(bodies.map(body => request({ body }).whole)))
      const responses = await client.wait(bodies.length, 15_000)
      assert.equal(responses.length, bodies.length)
      responses.forEach((response, i) => { assert.ok(echoOf(response).body.equals(bodies[i]!), `body ${i} echoed intact`) })
    } finally {
      client.destroy()
    }
  })
})
