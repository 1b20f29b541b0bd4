/// The start-up stack (src/lifecycle.ts): stops run newest first, a failed start stops what started,
/// a failing stop does not keep the others from stopping, and stop runs once.
import assert from 'node:assert/strict'
import { pino } from 'pino'
import { StartedParts } from '../../src/lifecycle.js'

const silent = pino({ level: 'silent' })

describe('StartedParts (start-up and shut-down stack)', () => {
  it('stops the parts in reverse start order, once', async () => {
    const events: string[] = []
    const parts = new StartedParts(silent)
    for (const name of ['scan', 'icap', 'cluster', 'snmp']) {
      const value = await parts.start(name, async () => { events.push(`start ${name}`); return name.toUpperCase() }, v => { events.push(`stop ${v}`) })
      assert.equal(value, name.toUpperCase())
    }
    assert.deepEqual(parts.names, ['scan', 'icap', 'cluster', 'snmp'])
    await Promise.all([parts.stop(), parts.stop()])
    await parts.stop()
    assert.deepEqual(events.slice(4), ['stop SNMP', 'stop CLUSTER', 'stop ICAP', 'stop SCAN'])
  })

  it('stops what started when a later part fails to start, and rethrows its error', async () => {
    const stopped: string[] = []
    const parts = new StartedParts(silent)
    await parts.start('a', () => 1, () => { stopped.push('a') })
    await parts.start('b', () => 2, () => { stopped.push('b') })
    await assert.rejects(parts.start('c', async () => { throw new Error('port in use') }, () => { stopped.push('c') }), /port in use/)
    assert.deepEqual(stopped, ['b', 'a'])
    await assert.rejects(parts.start('d', () => 4, () => {}), /shutting down/)
  })

  it('keeps stopping the other parts when one stop fails, and logs it', async () => {
    const lines: string[] = []
    const log = pino({ level: 'info' }, { write: (l: string) => { lines.push(l) } })
    const stopped: string[] = []
    const parts = new StartedParts(log)
    await parts.start('first', () => 1, () => { stopped.push('first') })
    await parts.start('broken', () => 2, () => { throw new Error('close failed') })
    await parts.start('last', () => 3, () => { stopped.push('last') })
    await parts.stop()
    assert.deepEqual(stopped, ['last', 'first'])
    assert.equal(lines.filter(l => l.includes('stopping a part failed') && l.includes('broken') && l.includes('close failed')).length, 1)
  })
})
