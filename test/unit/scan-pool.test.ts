/// The Piscina pool (src/scan/pool.ts) and the anchor kernel's shared memory: a worker that is gone
/// (crashed, killed past its deadline, over its heap limit) gives its kernel slot back, so the
/// replacement Piscina starts maps the shared bitmaps too instead of copying them.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { compileText } from '../helpers/sigdb.js'
import { createPool } from '../../src/scan/pool.js'
import { kernelMemoryFor } from '../../src/engine/matcher/matcher.js'
import { kernelSlotOwners } from '../../src/engine/matcher/kernel-memory.js'
import type { ScanTask } from '../../src/scan/task.js'

const task = (): ScanTask => ({ source: { kind: 'memory', bytes: new ArrayBuffer(0), size: 0 }, name: 'empty', timeoutMs: 10_000, returnBody: false, cancelFlag: new SharedArrayBuffer(4) })

describe('scan pool: kernel slots of workers that are gone', () => {
  it('hands a replaced worker\'s kernel slot to its replacement', async () => {
    const db = compileText({ 'p.ndb': Array.from({ length: 20 }, (_, i) => `Pool.${i}:0:*:${randomBytes(8).toString('hex')}`).join('\n') })
    const kernelMemory = kernelMemoryFor(db, 1) // one slot: the replacement gets it only if it was freed
    assert.ok(kernelMemory !== undefined)
    const pool = createPool({ workers: 1, maxQueue: 10, workerMaxOldGenMb: 256 }, db, kernelMemory)
    try {
      await pool.run(task())
      const [first] = pool.threads
      assert.ok(first !== undefined)
      assert.deepEqual(kernelSlotOwners(kernelMemory), [first.threadId])
      const destroyed = new Promise(resolve => pool.once('workerDestroy', resolve))
      await first.terminate()
      await destroyed
      await pool.run(task()) // on the replacement, which has built its engine
      const [second] = pool.threads
      assert.ok(second !== undefined && second.threadId !== first.threadId)
      assert.deepEqual(kernelSlotOwners(kernelMemory), [second.threadId])
    } finally {
      await pool.close()
    }
  })
})
