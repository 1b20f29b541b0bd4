/// Trickle mode (trickle.ts) and answers from the headers alone (the handler's `early`) over a real
/// loopback server: the 200 and the body past the hold-back stream before the body is complete and
/// before the handler is asked; allow sends the held tail; a block cuts the connection so the client
/// never has the tail; `early` answers inside the preview without asking `respond`.
import assert from 'node:assert/strict'
import { MemoryBodyStore, allowAnswer, blockAnswer, type IcapAnswer, type IcapHandler, type IcapTransactionInfo, type ReceivedBody, type TricklePlan } from '../index.js'
import { TestClient, request, statusOf } from './client.js'
import { serveSuite } from './serve.js'

const holdBackBytes = 10

class TrickleHandler implements IcapHandler<Buffer> {
  readonly bodies = new MemoryBodyStore()
  readonly asked: IcapTransactionInfo[] = []
  block = false
  istag (): string { return '"t-1"' }
  trickle (): TricklePlan { return { holdBackBytes } }
  early (tx: IcapTransactionInfo): IcapAnswer<Buffer> | undefined {
    return tx.request.headers.get('x-early') === undefined ? undefined : blockAnswer('Early.Block', Buffer.from('early'))
  }

  async respond (tx: IcapTransactionInfo, body: ReceivedBody<Buffer> | undefined): Promise<IcapAnswer<Buffer>> {
    this.asked.push(tx)
    if (this.block) return blockAnswer('Test.Threat', Buffer.from('blocked'))
    return allowAnswer(tx.echoNeeded ? body?.stored : undefined, 'clean')
  }
}

/// The HTTP body bytes of a (possibly truncated) 200 echo: its chunks after the HTTP header block.
function echoedBody (received: Buffer): { body: Buffer, complete: boolean } {
  const icapEnd = received.indexOf('\r\n\r\n')
  const httpEnd = received.indexOf('\r\n\r\n', icapEnd + 4)
  if (httpEnd < 0) return { body: Buffer.alloc(0), complete: false }
  const parts: Buffer[] = []
  let at = httpEnd + 4
  for (;;) {
    const line = received.indexOf('\r\n', at)
    if (line < 0) return { body: Buffer.concat(parts), complete: false }
    const size = parseInt(received.toString('latin1', at, line), 16)
    if (size === 0) return { body: Buffer.concat(parts), complete: received.subarray(line).toString('latin1') === '\r\n\r\n' }
    const data = received.subarray(line + 2, Math.min(received.length, line + 2 + size))
    parts.push(data)
    if (data.length < size) return { body: Buffer.concat(parts), complete: false }
    at = line + 2 + size + 2
  }
}

async function until (what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

describe('icap-server-lite trickle mode and early answers', () => {
  const handler = new TrickleHandler()
  const suite = serveSuite(handler)
  const { records } = suite
  beforeEach(() => { handler.asked.length = 0; handler.block = false; records.length = 0 })

  const body = Buffer.from(Array.from({ length: 100 }, (_, i) => String.fromCharCode(65 + (i % 26))).join(''), 'latin1')

  /// Sends the preview, then 40 more bytes, and waits for the streamed prefix before the rest.
  async function streamHalf (c: TestClient): Promise<Buffer> {
    const { first, rest } = request({ body, preview: 16 })
    c.socket.write(first)
    await until('100 Continue', () => c.received.toString('latin1').startsWith('ICAP/1.0 100 Continue\r\n\r\n'))
    c.received = Buffer.alloc(0)
    const restBody = rest.subarray(rest.indexOf('\r\n') + 2, rest.indexOf('\r\n') + 2 + body.length - 16)
    c.socket.write(Buffer.concat([Buffer.from('28\r\n'), restBody.subarray(0, 40), Buffer.from('\r\n')]))
    await until('the streamed prefix', () => echoedBody(c.received).body.length === 16 + 40 - holdBackBytes)
    assert.equal(statusOf(c.received.toString('latin1')), 200)
    assert.equal(handler.asked.length, 0, 'the handler is not asked before the body is complete')
    return restBody.subarray(40)
  }

  it('streams the 200 and the body past the hold-back before the verdict; allow sends the tail', async () => {
    const c = await TestClient.open(suite.port)
    try {
      const left = await streamHalf(c)
      c.socket.write(Buffer.concat([Buffer.from(left.length.toString(16) + '\r\n'), left, Buffer.from('\r\n0\r\n\r\n')]))
      await until('the whole echo', () => echoedBody(c.received).complete)
      assert.deepEqual(echoedBody(c.received).body, body)
      assert.equal(handler.asked[0]?.trickled, true)
      assert.equal(handler.asked[0]?.echoNeeded, false, 'the echo is already under way')
      await until('the record', () => records.length === 1)
      assert.equal(records[0]?.outcome, 'answered')
      assert.equal(c.closed, false, 'the connection is kept')
    } finally {
      c.destroy()
    }
  })

  it('a block cuts the connection: the client keeps a prefix without the held-back tail', async () => {
    handler.block = true
    const c = await TestClient.open(suite.port)
    try {
      const left = await streamHalf(c)
      c.socket.write(Buffer.concat([Buffer.from(left.length.toString(16) + '\r\n'), left, Buffer.from('\r\n0\r\n\r\n')]))
      await c.waitClosed()
      const got = echoedBody(c.received)
      assert.equal(got.complete, false, 'no last chunk')
      assert.ok(got.body.length <= body.length - holdBackBytes, `${got.body.length} bytes reached the client`)
      assert.deepEqual(got.body, body.subarray(0, got.body.length), 'what arrived is a prefix')
      assert.ok(!c.received.includes('blocked'), 'no block page can follow a started 200')
      await until('the record', () => records.length === 1)
      assert.equal(records[0]?.outcome, 'partially-blocked')
    } finally {
      c.destroy()
    }
  })

  it('a client that offers 204 is not trickled: the whole body is decided first', async () => {
    const c = await TestClient.open(suite.port)
    try {
      c.socket.write(request({ body, allow: '204' }).whole)
      const [answer] = await c.wait(1)
      assert.equal(statusOf(answer), 204)
      assert.equal(handler.asked[0]?.trickled, false)
    } finally {
      c.destroy()
    }
  })

  it('early: answered inside the preview from the headers alone, respond never asked', async () => {
    const c = await TestClient.open(suite.port)
    try {
      c.socket.write(request({ body, preview: 16, headers: ['X-Early: 1'] }).first)
      const [answer] = await c.wait(1)
      assert.equal(statusOf(answer), 200)
      assert.match(answer ?? '', /X-Infection-Found: .*Early\.Block/)
      assert.equal(handler.asked.length, 0)
    } finally {
      c.destroy()
    }
  })
})
