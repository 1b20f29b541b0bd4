import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { DeadlineWatch } from '../../src/scan/deadline.js'

describe('DeadlineWatch: hard per-task deadlines behind one timer', () => {
  it('fires an expired deadline once, through the listener Piscina registers, and spares finished ones', async () => {
    const watch = new DeadlineWatch(40)
    const late = watch.start()
    const finished = watch.start()
    let fired = 0
    const listener = (): void => { fired++ }
    late.addEventListener('abort', listener)
    finished.addEventListener('abort', () => { assert.fail('a finished task was aborted') })
    watch.done(finished)
    await sleep(200)
    assert.equal(fired, 1)
    assert.equal(late.aborted, true)
    assert.match(String(late.reason), /deadline/)
    assert.equal(finished.aborted, false)
    late.fire('again')
    assert.equal(fired, 1)
  })

  it('does not fire before the deadline and removed listeners are not called', async () => {
    const watch = new DeadlineWatch(10_000)
    const d = watch.start()
    const listener = (): void => { assert.fail('removed listener called') }
    d.addEventListener('abort', listener)
    d.removeEventListener('abort', listener)
    await sleep(50)
    assert.equal(d.aborted, false)
    d.fire('manual')
    assert.equal(d.aborted, true)
    watch.done(d)
  })
})
