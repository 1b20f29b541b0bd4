import assert from 'node:assert/strict'
import { mkdtemp, rm, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BodySink, MemoryBudget, releaseSource } from '../../src/scan/body.js'

describe('BodySink under a shared memory budget', () => {
  let dir = ''
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'scanwall-budget-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('spools the bodies that would take the open sinks past the budget, keeps every byte, and releases on finish', async () => {
    const budget = new MemoryBudget(100_000)
    const opts = { memoryLimit: 64 * 1024, spoolDir: dir, budget }
    const sinks = [new BodySink(opts), new BodySink(opts), new BodySink(opts)]
    const bodies = sinks.map((_, i) => Buffer.alloc(60_000, 0x41 + i))
    for (let i = 0; i < sinks.length; i++) {
      const sink = sinks[i]
      const body = bodies[i]
      if (sink === undefined || body === undefined) throw new Error('unreachable')
      for (let at = 0; at < body.length; at += 7000) await sink.write(body.subarray(at, at + 7000))
    }
    assert.ok(budget.used <= 100_000, `budget used ${budget.used}`)
    assert.equal(sinks.filter(s => s.spooled).length >= 1, true, 'at least one body spooled')
    assert.equal(sinks.filter(s => !s.spooled).length >= 1, true, 'at least one body stayed in memory')
    for (let i = 0; i < sinks.length; i++) {
      const source = await sinks[i]?.finish()
      if (source === undefined) throw new Error('unreachable')
      const bytes = source.kind === 'memory' ? Buffer.from(source.bytes, 0, source.size) : await readFile(source.path)
      assert.ok(bytes.equals(bodies[i] ?? Buffer.alloc(0)), `body ${i} intact (${source.kind})`)
      await releaseSource(source)
    }
    assert.equal(budget.used, 0)
  })

  it('releases a discarded sink\'s reservation', async () => {
    const budget = new MemoryBudget(1 << 20)
    const sink = new BodySink({ memoryLimit: 1 << 20, spoolDir: dir, budget, expectedSize: 5000 })
    assert.equal(budget.used, 8192, 'a small body takes the class size that holds it (body.ts\'s shelf)')
    await sink.write(Buffer.alloc(5000, 1))
    await sink.discard()
    assert.equal(budget.used, 0)
  })
})
