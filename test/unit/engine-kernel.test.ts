/// The WebAssembly anchor scan against a plain reference: for random bytes and random Bloom bitmaps
/// (dense enough for thousands of hits), it reports exactly the positions whose gram passes a filter,
/// in order, for ranges of every length mod 4 (it tests four positions per step, then single ones),
/// with a small bitmap (tested directly) and a large one (tested through its coarse bitmap first).
import assert from 'node:assert/strict'
import { randomBytes, randomInt } from 'node:crypto'
import { AnchorKernel } from '../../src/engine/matcher/kernel.js'
import { coarseFilter } from '../../src/engine/matcher/kernel-memory.js'

const GOLDEN = 0x9e3779b1

function randomBloom (bits: number, density: number): Uint32Array {
  const bloom = new Uint32Array((1 << bits) / 32)
  for (let i = 0; i < bloom.length * 32 * density; i++) {
    const b = randomInt(bloom.length * 32)
    bloom[b >>> 5]! |= 1 << (b & 31)
  }
  return bloom
}

/// What the kernel must report: positions in [from, to] whose 4-byte gram's hash bit (or, with short
/// anchors, whose first 2 bytes' bit) is set.
function reference (buf: Uint8Array, from: number, to: number, bloom: Uint32Array, bloom2: Uint32Array, gramBits: number, short: boolean): number[] {
  const out: number[] = []
  for (let i = from; i <= to; i++) {
    const x = (buf[i]! | buf[i + 1]! << 8 | buf[i + 2]! << 16 | buf[i + 3]! << 24) >>> 0
    const h = Math.imul(x, GOLDEN) >>> (32 - gramBits)
    const long = (bloom[h >>> 5]! >>> (h & 31)) & 1
    const two = short ? (bloom2[(x & 0xffff) >>> 5]! >>> (x & 31)) & 1 : 0
    if ((long | two) !== 0) out.push(i)
  }
  return out
}

describe('engine: WebAssembly anchor scan', () => {
  it('sets exactly the coarse filter\'s two bits of every hash in the large bitmap', () => {
    const bloom = randomBloom(20, 0.001)
    const coarse = new Uint8Array(coarseFilter(bloom).buffer)
    assert.equal(coarse.length * 8, bloom.length * 4)
    const want = new Uint8Array(coarse.length)
    for (let h = 0; h < bloom.length * 32; h++) {
      if (((bloom[h >>> 5]! >>> (h & 31)) & 1) !== 0) want[h >>> 6]! |= (1 << ((h >>> 3) & 7)) | (1 << (h & 7))
    }
    assert.deepEqual(coarse, want)
  })

  for (const [short, gramBits] of [[false, 18], [true, 18], [false, 22], [true, 22]] as const) {
    it(`reports exactly the reference positions, for ranges of every length (${gramBits}-bit grams${short ? ', with 2-byte anchors' : ''})`, () => {
      const bloom = randomBloom(gramBits, 0.01)
      const bloom2 = short ? randomBloom(16, 0.002) : new Uint32Array(2048)
      const kernel = new AnchorKernel(bloom, bloom2, gramBits, short)
      assert.equal(kernel.coarse, gramBits > 18) // 512 KiB bitmaps get a coarse one; 32 KiB ones do not
      const buf = randomBytes(700_000)
      for (let round = 0; round < 24; round++) {
        const from = randomInt(64)
        // Lengths around the 256 KiB window and of every residue mod 4.
        const length = round < 8 ? (256 << 10) - 4 + round : randomInt(256, buf.length - from - 70)
        const to = from + length - 1
        const got: number[] = []
        kernel.run(buf, from, to, i => { got.push(i) })
        assert.deepEqual(got, reference(buf, from, to, bloom, bloom2, gramBits, short), `from ${from} to ${to}`)
      }
    })
  }
})
