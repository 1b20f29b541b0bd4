import assert from 'node:assert/strict'
import { SpoolGate } from '../spool-gate.js'

const MiB = 1024 * 1024

describe('SpoolGate: one spool backlog budget shared by all transactions', () => {
  it('gives a lone writer the ceiling and splits the budget among many, down to the floor', () => {
    const gate = new SpoolGate({ budgetBytes: 16 * MiB, maxShareBytes: 4 * MiB, minShareBytes: 256 * 1024 })
    assert.equal(gate.share, 4 * MiB)
    const backlogs = new Array<number>(32).fill(0)
    for (let i = 0; i < 32; i++) {
      gate.queue(backlogs[i] ?? 0, 65_536)
      backlogs[i] = 65_536
    }
    assert.equal(gate.writers, 32)
    assert.equal(gate.queued, 32 * 65_536)
    assert.equal(gate.share, 512 * 1024)
    // 32 writers each paused at their share hold at most the budget (plus one read each).
    assert.ok(32 * gate.share <= 16 * MiB)
    for (let i = 0; i < 200; i++) gate.queue(1, 0) // empty writes change nothing
    assert.equal(gate.writers, 32)
    const crowd = new SpoolGate({ budgetBytes: 16 * MiB, maxShareBytes: 4 * MiB, minShareBytes: 256 * 1024 })
    for (let i = 0; i < 1000; i++) crowd.queue(0, 1)
    assert.equal(crowd.share, 256 * 1024)
  })

  it('counts a writer once while it has bytes queued and releases it when they are written', () => {
    const gate = new SpoolGate()
    gate.queue(0, 100)
    gate.queue(100, 50)
    assert.equal(gate.writers, 1)
    gate.written(50, 100)
    assert.equal(gate.writers, 1)
    gate.written(0, 50)
    assert.equal(gate.writers, 0)
    assert.equal(gate.queued, 0)
  })
})
