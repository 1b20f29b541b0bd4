/// until() (src/cluster/until.ts): a wait that checks its condition on events, not in a loop.
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { until, anyOf, type Subscribe } from '../../../src/cluster/until.js'

function on (emitter: EventEmitter, event: string): Subscribe {
  return check => { emitter.on(event, check); return () => { emitter.off(event, check) } }
}

describe('until (event-driven wait)', () => {
  it('resolves at once when the condition already holds', async () => {
    assert.equal(await until(() => true, () => () => {}, 1000), true)
  })

  it('resolves on the event that makes the condition hold, and unsubscribes', async () => {
    const a = new EventEmitter()
    const b = new EventEmitter()
    let count = 0
    const waiting = until(() => count >= 2, anyOf(on(a, 'x'), on(b, 'y')), 5000)
    count = 1; a.emit('x')
    count = 2; b.emit('y')
    assert.equal(await waiting, true)
    assert.equal(a.listenerCount('x') + b.listenerCount('y'), 0)
  })

  it('gives up after the timeout, or when aborted', async () => {
    const a = new EventEmitter()
    assert.equal(await until(() => false, on(a, 'x'), 20), false)
    const abort = new AbortController()
    const waiting = until(() => false, on(a, 'x'), 60_000, abort.signal)
    abort.abort()
    assert.equal(await waiting, false)
    assert.equal(a.listenerCount('x'), 0)
  })
})
