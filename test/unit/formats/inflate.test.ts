/// inflate.ts's one-call path against the streaming decoder it stands in for: the same bytes, the same
/// consumed count (where the next gzip member starts), the same partial output and reason for a
/// truncated member, the streaming path for output past the in-memory cap, and declared sizes that lie
/// changing nothing but the first buffer. The gzip handler's multi-member walk on top of it.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createInflateRaw, deflateRawSync, gzipSync } from 'node:zlib'
import { ScanBudget, defaultLimits, type ScanLimits } from '../../../src/engine/budget.js'
import { MemorySource, type ByteSource } from '../../../src/engine/source.js'
import { inflateRawInto } from '../../../src/engine/formats/inflate.js'
import { decodeStream } from '../../../src/engine/formats/stream.js'
import { gzipHandler } from '../../../src/engine/formats/gzip.js'
import { SevenZipBackend } from '../../../src/engine/formats/sevenzip.js'

const MiB = 1024 * 1024
const budgetOf = (limits: Partial<ScanLimits> = {}): ScanBudget => new ScanBudget({ ...defaultLimits, ...limits }, new AbortController().signal)

async function bytesOf (source: ByteSource | undefined): Promise<Buffer> {
  return source === undefined ? Buffer.alloc(0) : Buffer.from(await source.read(0, source.size))
}

/// The streaming decoder alone (what gzip.ts and zip.ts called before inflate.ts).
async function streamed (packed: Uint8Array, limits: Partial<ScanLimits> = {}): Promise<{ out: Buffer, broken: string | undefined, consumed: number }> {
  const budget = budgetOf(limits)
  const r = await decodeStream(new MemorySource(packed).chunks(256 * 1024), createInflateRaw({ chunkSize: 64 * 1024 }), budget, packed.length)
  return { out: await bytesOf(r.sink.layer('x')?.source), broken: r.broken, consumed: r.consumed }
}

async function inflated (packed: Uint8Array, limits: Partial<ScanLimits> = {}, sizeHint?: number): Promise<{ out: Buffer, broken: string | undefined, consumed: number }> {
  const budget = budgetOf(limits)
  const r = await inflateRawInto(new MemorySource(packed), budget, { packed: packed.length, sizeHint })
  return { out: await bytesOf(r.sink.layer('x')?.source), broken: r.broken, consumed: r.consumed }
}

/// Half text, half random: both deflate block kinds (Huffman-coded and stored).
function mixed (size: number): Buffer {
  const text = Buffer.from('The quick brown fox jumps over the lazy dog. '.repeat(Math.ceil(size / 90))).subarray(0, size >> 1)
  return Buffer.concat([text, randomBytes(size - text.length)])
}

describe('inflate.ts: one call or streaming, the same result', () => {
  for (const size of [0, 1, 1000, 300_000, 3 * MiB]) {
    it(`${size} bytes: the same output and consumed count as the streaming decoder, followed by junk`, async () => {
      const plain = mixed(size)
      const packed = Buffer.concat([deflateRawSync(plain), Buffer.from('trailing junk that is not deflate')])
      const a = await inflated(packed, {}, size)
      const b = await streamed(packed)
      assert.ok(a.out.equals(plain), 'one call gives the plain bytes')
      assert.ok(b.out.equals(plain), 'streaming gives the plain bytes')
      assert.equal(a.consumed, b.consumed)
      assert.equal(a.consumed, packed.length - 'trailing junk that is not deflate'.length)
      assert.equal(a.broken, undefined)
    })
  }

  it('a declared size that lies (smaller, larger, past the in-memory cap, absent) changes nothing but the path', async () => {
    const plain = mixed(2 * MiB + 17)
    const packed = deflateRawSync(plain)
    for (const hint of [undefined, 1, 100_000, plain.length - 1, plain.length, plain.length + 1, 7 * MiB, 9 * MiB, 2 ** 32 - 1]) {
      assert.ok((await inflated(packed, {}, hint)).out.equals(plain), `size hint ${String(hint)}`)
    }
  })

  it('a truncated stream keeps what inflated and says why, as the streaming decoder does', async () => {
    const plain = mixed(1 * MiB)
    const packed = deflateRawSync(plain).subarray(0, 400_000)
    const a = await inflated(packed, {}, plain.length)
    const b = await streamed(packed)
    assert.ok(a.out.length > 0 && plain.subarray(0, a.out.length).equals(a.out), 'a prefix of the plain bytes')
    assert.ok(a.out.equals(b.out))
    assert.equal(a.broken, b.broken)
    assert.match(a.broken ?? '', /unexpected end of file/)
  })

  it('output past the in-memory cap streams (spooled), with the same bytes', async () => {
    const plain = mixed(3 * MiB)
    const packed = deflateRawSync(plain)
    const limits = { spoolAboveBytes: 1 * MiB }
    const a = await inflated(packed, limits, plain.length)
    assert.ok(a.out.equals(plain))
    assert.equal(a.consumed, packed.length)
  })

  it('a bomb stops at the limit with the limit recorded, whichever path starts it', async () => {
    const packed = deflateRawSync(Buffer.alloc(64 * MiB))
    const budget = budgetOf({ maxFileBytes: 4 * MiB })
    const r = await inflateRawInto(new MemorySource(packed), budget, { packed: packed.length, sizeHint: 64 * MiB })
    assert.equal(r.sink.ok, false)
    assert.equal(r.sink.layer('x'), undefined)
    assert.equal(budget.exceeded, 'MaxFileSize')
  })
})

describe('gzip handler over inflate.ts', () => {
  it('two members and trailing junk: one child, both members in order', async () => {
    const one = mixed(700_000)
    const two = Buffer.from('second member\n')
    const file = Buffer.concat([gzipSync(one), gzipSync(two), Buffer.from('junk after the last member')])
    const budget = budgetOf()
    const children = []
    for await (const layer of gzipHandler.extract(new MemorySource(file), budget, { sevenZip: new SevenZipBackend() })) children.push(await bytesOf(layer.source))
    assert.equal(children.length, 1)
    assert.ok(children[0]?.equals(Buffer.concat([one, two])))
    assert.deepEqual(budget.reports, [])
  })
})
