/// The Piscina pool (src/scan/pool.ts) and the anchor kernel's shared memory: a worker that is gone
/// (crashed, killed past its deadline, over its heap limit) gives its kernel slot back, so the
/// replacement Piscina starts maps the shared bitmaps too instead of copying them.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { compileText } from '../helpers/sigdb.js'
import { createPool } from '../../src/scan/pool.js'
import { DbOffer } from '../../src/scan/db-handoff.js'
import { parseTaskResult } from '../../src/scan/result.js'
import { kernelMemoryFor } from '../../src/engine/matcher/matcher.js'
import { kernelSlotOwners } from '../../src/engine/matcher/kernel-memory.js'
import type { ScanTask } from '../../src/scan/task.js'

const task = (): ScanTask => ({ source: { kind: 'memory', bytes: new ArrayBuffer(0), size: 0 }, name: 'empty', timeoutMs: 10_000, returnBody: false, cancelFlag: new SharedArrayBuffer(4) })

describe('scan pool: kernel slots of workers that are gone', () => {
  it('hands a replaced worker\'s kernel slot to its replacement', async () => {
    const db = compileText({ 'p.ndb': Array.from({ length: 20 }, (_, i) => `Pool.${i}:0:*:${randomBytes(8).toString('hex')}`).join('\n') })
    const kernelMemory = kernelMemoryFor(db, 1) // one slot: the replacement gets it only if it was freed
    assert.ok(kernelMemory !== undefined)
    const pool = createPool({ workers: 1, maxQueue: 10, workerMaxOldGenMb: 256 }, { db, kernelMemory })
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

  it('workers started before the DB get it when it is offered, and so does a replacement', async () => {
    const hex = randomBytes(8).toString('hex')
    const db = compileText({ 'p.ndb': `Pool.Late:0:*:${hex}` })
    const kernelMemory = kernelMemoryFor(db, 1)
    const offer = new DbOffer()
    const pool = createPool({ workers: 1, maxQueue: 10, workerMaxOldGenMb: 256 }, offer)
    const bytes = Buffer.from(`00${hex}ff`, 'hex')
    const scanTask = (): ScanTask => {
      const copy = new Uint8Array(bytes).buffer
      return { source: { kind: 'memory', bytes: copy, size: copy.byteLength }, name: 'late', timeoutMs: 10_000, returnBody: false, cancelFlag: new SharedArrayBuffer(4) }
    }
    const verdictName = async (): Promise<string | undefined> => {
      const result = parseTaskResult(await pool.run(scanTask()))
      assert.ok(result.ok)
      return result.verdict.findings[0]?.name
    }
    try {
      const first = verdictName() // queued before the DB exists: it waits for it
      await new Promise(resolve => setTimeout(resolve, 200))
      offer.offer({ db, kernelMemory })
      assert.equal(await first, 'Pool.Late')
      const [worker] = pool.threads
      assert.ok(worker !== undefined)
      const destroyed = new Promise(resolve => pool.once('workerDestroy', resolve))
      await worker.terminate()
      await destroyed
      assert.equal(await verdictName(), 'Pool.Late') // the replacement asked and got it
      assert.ok(kernelMemory !== undefined)
      assert.deepEqual(kernelSlotOwners(kernelMemory), [pool.threads[0]?.threadId])
    } finally {
      await pool.close()
      offer.close()
    }
  })
})
