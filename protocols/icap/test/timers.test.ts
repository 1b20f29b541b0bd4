/// The connection's timers (idle, header, body) over a real loopback server with short timeouts:
/// each kind's Timeout is kept and re-armed with refresh(), and one armed for an earlier phase fires
/// into nothing; these tests hold a connection through many phases, each shorter than its timeout
/// but all together far longer, and then let each timeout happen.
import assert from 'node:assert/strict'
import { MemoryBodyStore, allowAnswer, type IcapAnswer, type IcapHandler } from '../index.js'
import { TestClient, request, statusOf } from './client.js'
import { serveSuite } from './serve.js'

class AllowAll implements IcapHandler<Buffer> {
  readonly bodies = new MemoryBodyStore()
  istag (): string { return '"t"' }
  async respond (): Promise<IcapAnswer<Buffer>> { return allowAnswer(undefined, 'clean') }
}

const timeoutMs = 400
/// Between the pieces of a request: a quarter of the timeouts (room for a slow test machine).
const gapMs = timeoutMs / 4
const pause = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('icap-server-lite connection timers', function () {
  this.timeout(20_000)
  const suite = serveSuite(new AllowAll(), { idleTimeoutMs: timeoutMs, headerTimeoutMs: timeoutMs, bodyTimeoutMs: timeoutMs })

  it('keeps a connection whose every phase is shorter than its timeout, over many timeouts in all', async () => {
    const c = await TestClient.open(suite.port)
    const body = Buffer.alloc(400, 0x61)
    const { first, rest } = request({ body, preview: 16, allow: '204' })
    for (let n = 1; n <= 6; n++) {
      // The head in two pieces, the body in pieces: header, body and idle timers each re-armed.
      c.socket.write(first.subarray(0, 20))
      await pause(gapMs)
      c.socket.write(first.subarray(20))
      await c.wait(2 * n - 1)
      for (let at = 0; at < rest.length; at += 100) {
        if (at > 0) await pause(gapMs)
        c.socket.write(rest.subarray(at, at + 100))
      }
      const answers = await c.wait(2 * n)
      assert.equal(statusOf(answers[2 * n - 1]), 204, `request ${n}`)
      await pause(gapMs)
    }
    assert.equal(c.closed, false, 'open after many timeouts\' worth of time')
    // Then idle: closed by the idle timer.
    await c.waitClosed(timeoutMs * 10)
  })

  it('still times out a head that stops, and a body that stops, after phases that did not', async () => {
    const body = Buffer.alloc(400, 0x62)
    const { first, rest } = request({ body, preview: 16, allow: '204' })
    const head = await TestClient.open(suite.port)
    head.socket.write(first)
    await head.wait(1)
    head.socket.write(rest)
    await head.wait(2)
    head.socket.write(first.subarray(0, 20)) // the next head never finishes
    const answers = await head.wait(3, timeoutMs * 10)
    assert.equal(statusOf(answers[2]), 408)
    const stuck = await TestClient.open(suite.port)
    stuck.socket.write(first)
    await stuck.wait(1)
    stuck.socket.write(rest.subarray(0, 50)) // the body stops
    await stuck.waitClosed(timeoutMs * 10)
    assert.equal(stuck.responses().length, 1, 'no answer for a body that never ended')
  })
})
