/// The anchor kernel's shared memory (kernelMemoryFor): the pool builds the DB's Bloom bitmaps once
/// in a shared WebAssembly memory and every worker's kernel maps them, each scanning in a slot of its
/// own that the pool frees when the worker is gone. Here real worker threads and the main thread
/// share one memory and scan at the same time.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Worker, threadId } from 'node:worker_threads'
import { compileText, hex, match } from '../helpers/sigdb.js'
import { Matcher, kernelMemoryFor } from '../../src/engine/matcher/matcher.js'
import { releaseKernelSlots } from '../../src/engine/matcher/kernel-memory.js'

const matcherUrl = new URL('../../src/engine/matcher/matcher.js', import.meta.url).href

// A worker that builds a Matcher on the shared DB and kernel memory and reports what it finds in
// its data, fed in 300 KiB chunks (so every chunk spans two kernel windows).
const workerSource = `
import { workerData, parentPort } from 'node:worker_threads'
const { Matcher } = await import(workerData.matcherUrl)
const m = new Matcher(workerData.db, { kernelMemory: workerData.kernelMemory })
const s = m.begin('unknown', workerData.data.length)
for (let at = 0; at < workerData.data.length; at += 300 << 10) s.push(workerData.data.subarray(at, at + (300 << 10)))
parentPort.postMessage({ shares: m.kernel?.sharesMemory === true, found: s.end() })
`

describe('engine: anchor kernel memory shared by workers', () => {
  const sigs = Array.from({ length: 40 }, (_, i) => `Shared.${i}:0:*:${randomBytes(10).toString('hex')}`)
  const db = compileText({ 'k.ndb': sigs.join('\n') })
  const names = (lines: readonly string[]): string[] => lines.map(l => l.split(':')[0] ?? '').sort()
  /// 3 MiB of random bytes with the given signatures spread through it.
  const sample = (lines: readonly string[]): Buffer => {
    const parts: Buffer[] = []
    for (const line of lines) parts.push(randomBytes(Math.floor((3 << 20) / lines.length)), hex(line.split(':')[3] ?? ''))
    return Buffer.concat(parts)
  }

  it('finds in every thread exactly the signatures of its own data, at the same time', async () => {
    const kernelMemory = kernelMemoryFor(db, 4)
    assert.ok(kernelMemory !== undefined)
    const groups = [0, 1, 2, 3].map(g => sigs.filter((_, i) => i % 4 === g))
    const runs = groups.slice(1).map(async group => await new Promise<{ shares: boolean, found: string[] }>((resolve, reject) => {
      const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(workerSource)}`), { workerData: { db, kernelMemory, matcherUrl, data: sample(group) } })
      w.once('message', resolve)
      w.once('error', reject)
    }))
    const here = new Matcher(db, { kernelMemory })
    assert.equal(here.kernel?.sharesMemory, true)
    assert.deepEqual(match(here, sample(groups[0] ?? [])).sort(), names(groups[0] ?? []))
    const results = await Promise.all(runs)
    results.forEach((r, i) => {
      assert.equal(r.shares, true) // none fell back to copying the bitmaps
      assert.deepEqual(r.found.sort(), names(groups[i + 1] ?? []))
    })
  })

  it('falls back to a private memory when every slot is taken, and reuses the slot of a thread that is gone', async () => {
    const kernelMemory = kernelMemoryFor(db, 1)
    const data = sample(sigs.filter((_, i) => i % 7 === 0))
    const expected = names(sigs.filter((_, i) => i % 7 === 0))
    // A worker takes the only slot and exits (as a crashed worker would, without cleaning up).
    const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(workerSource)}`), { workerData: { db, kernelMemory, matcherUrl, data } })
    const r = await new Promise<{ shares: boolean, found: string[] }>((resolve, reject) => { w.once('message', resolve); w.once('error', reject) })
    await new Promise(resolve => w.once('exit', resolve))
    assert.equal(r.shares, true)
    const crowded = new Matcher(db, { kernelMemory })
    assert.equal(crowded.kernel?.sharesMemory, false)
    assert.deepEqual(match(crowded, data).sort(), expected)
    assert.ok(kernelMemory !== undefined)
    releaseKernelSlots(kernelMemory, new Set([threadId])) // what the pool does when a worker is gone
    const next = new Matcher(db, { kernelMemory })
    assert.equal(next.kernel?.sharesMemory, true)
    assert.deepEqual(match(next, data).sort(), expected)
  })

  it('scans the same with a shared memory as with a private one', () => {
    const data = sample(sigs.filter((_, i) => i % 3 === 0))
    const shared = new Matcher(db, { kernelMemory: kernelMemoryFor(db, 1) })
    const own = new Matcher(db)
    assert.deepEqual(match(shared, data).sort(), match(own, data).sort())
    assert.deepEqual(match(shared, data).sort(), names(sigs.filter((_, i) => i % 3 === 0)))
  })

  it('builds a kernel for DBs of any size in one thread, private or shared (one compiled module each)', async () => {
    // In a fresh thread (compiled modules are cached per thread), largest Bloom bitmap first: a module
    // that declared the first DB's memory size would not link to a smaller one.
    const dbs = [3000, 300, 1].map(count => {
      const lines = Array.from({ length: count }, (_, i) => `Size.${count}.${i}:0:*:${randomBytes(8).toString('hex')}`)
      return { db: compileText({ 's.ndb': lines.join('\n') }), name: `Size.${count}.0`, data: Buffer.concat([randomBytes(300_000), hex(lines[0]?.split(':')[3] ?? '')]) }
    })
    const source = `
import { workerData, parentPort } from 'node:worker_threads'
const { Matcher, kernelMemoryFor } = await import(workerData.matcherUrl)
const out = []
for (const { db, data } of workerData.dbs) {
  for (const m of [new Matcher(db), new Matcher(db, { kernelMemory: kernelMemoryFor(db, 1) })]) {
    const s = m.begin('unknown', data.length)
    s.push(data)
    out.push({ kernel: m.kernel !== undefined, shares: m.kernel?.sharesMemory === true, found: s.end() })
  }
}
parentPort.postMessage(out)
`
    const results = await new Promise<Array<{ kernel: boolean, shares: boolean, found: string[] }>>((resolve, reject) => {
      const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), { workerData: { dbs, matcherUrl } })
      w.once('message', resolve)
      w.once('error', reject)
    })
    assert.deepEqual(results, dbs.flatMap(d => [{ kernel: true, shares: false, found: [d.name] }, { kernel: true, shares: true, found: [d.name] }]))
  })

  it('finds the signatures in bytes at every alignment (the window follows the source offset mod 8)', () => {
    const lines = sigs.filter((_, i) => i % 5 === 0)
    const data = sample(lines)
    const m = new Matcher(db, { kernelMemory: kernelMemoryFor(db, 1) })
    for (let shift = 0; shift < 8; shift++) {
      const backing = new Uint8Array(data.length + 8)
      backing.set(data, shift)
      assert.deepEqual(match(m, backing.subarray(shift, shift + data.length), { chunk: 1 << 20 }).sort(), names(lines), `shift ${shift}`)
    }
  })
})
