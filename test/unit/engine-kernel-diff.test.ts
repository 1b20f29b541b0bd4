/// The anchor kernel's two bodies (kernel-simd.ts: sixteen positions per step; kernel-scalar.ts:
/// four) against a plain reference and against each other: random bytes, text, and adversarial
/// buffers (every position a hit, so the hit array fills and the scan resumes many times; hits
/// clustered at step and window edges; all zeros), for ranges that start at every alignment and end
/// at every residue mod 16 around the 256 KiB window's edges. Then whole layers through the Matcher:
/// signatures planted across window edges, the layer pushed in chunks split around those edges, give
/// the same names with either body and with the JS loop (stream.ts, the reference path).
import assert from 'node:assert/strict'
import { randomBytes, randomInt } from 'node:crypto'
import { AnchorKernel, type KernelBody } from '../../src/engine/matcher/kernel.js'
import { WINDOW } from '../../src/engine/matcher/kernel-memory.js'
import { Matcher } from '../../src/engine/matcher/matcher.js'
import { compileText, hex } from '../helpers/sigdb.js'

const GOLDEN = 0x9e3779b1
const bodies: readonly KernelBody[] = ['simd', 'scalar']

const gramAt = (buf: Uint8Array, i: number): number => (buf[i]! | buf[i + 1]! << 8 | buf[i + 2]! << 16 | buf[i + 3]! << 24) >>> 0

function setBit (map: Uint32Array, bit: number): void { map[bit >>> 5]! |= 1 << (bit & 31) }

function randomBloom (bits: number, density: number): Uint32Array {
  const bloom = new Uint32Array((1 << bits) / 32)
  for (let i = 0; i < bloom.length * 32 * density; i++) setBit(bloom, randomInt(bloom.length * 32))
  return bloom
}

function reference (buf: Uint8Array, from: number, to: number, bloom: Uint32Array, bloom2: Uint32Array, gramBits: number, short: boolean): number[] {
  const out: number[] = []
  for (let i = from; i <= to; i++) {
    const x = gramAt(buf, i)
    const h = Math.imul(x, GOLDEN) >>> (32 - gramBits)
    const long = (bloom[h >>> 5]! >>> (h & 31)) & 1
    const two = short ? (bloom2[(x & 0xffff) >>> 5]! >>> (x & 31)) & 1 : 0
    if ((long | two) !== 0) out.push(i)
  }
  return out
}

/// Numbered lines of words, like the peers' text corpus.
function text (n: number): Uint8Array {
  const words = ['the', 'of', 'request', 'proxy', 'scan', 'virus', 'header', 'stream', 'chunk', 'icap', 'http', 'timeout']
  let s = ''
  while (s.length < n) s += `${String(randomInt(1_000_000)).padStart(6, '0')} ${Array.from({ length: 5 + randomInt(13) }, () => words[randomInt(words.length)]).join(' ')}\n`
  return new Uint8Array(Buffer.from(s.slice(0, n), 'latin1'))
}

/// A buffer of `n` bytes whose every position is a hit: a 4-byte pattern whose four rotations are in the bitmap.
function allHits (n: number, bloom: Uint32Array, gramBits: number): Uint8Array {
  const buf = new Uint8Array(n + 3)
  const pattern = randomBytes(4)
  for (let i = 0; i < buf.length; i++) buf[i] = pattern[i & 3]!
  for (let r = 0; r < 4; r++) setBit(bloom, Math.imul(gramAt(buf, r), GOLDEN) >>> (32 - gramBits))
  return buf
}

/// Random bytes with hitting grams planted at the edges of 16-byte steps and of windows.
function edgeHits (n: number, bloom: Uint32Array, gramBits: number): Uint8Array {
  const buf = new Uint8Array(randomBytes(n + 3))
  const gram = randomBytes(4)
  setBit(bloom, Math.imul(gram.readUInt32LE(0), GOLDEN) >>> (32 - gramBits))
  for (const edge of [15, 16, 17, 31, 32, WINDOW - 17, WINDOW - 16, WINDOW - 4, WINDOW - 1, WINDOW, WINDOW + 1, WINDOW + 15, 2 * WINDOW - 3]) {
    if (edge + 4 <= n) buf.set(gram, edge)
  }
  return buf
}

describe('engine: anchor kernel bodies, differential', () => {
  for (const [short, gramBits] of [[false, 18], [true, 18], [false, 24], [true, 24]] as const) {
    const label = `${gramBits}-bit grams${short ? ', 2-byte anchors' : ''}`
    it(`report the reference positions on random, text and adversarial buffers, ranges around window edges (${label})`, () => {
      const bloom = randomBloom(gramBits, gramBits > 18 ? 0.002 : 0.01)
      const bloom2 = short ? randomBloom(16, 0.002) : new Uint32Array(2048)
      const size = 2 * WINDOW + 64
      const inputs: Array<[string, Uint8Array]> = [
        ['random', new Uint8Array(randomBytes(size + 16))],
        ['text', text(size + 16)],
        ['zeros', new Uint8Array(size + 16)],
        ['every position', allHits(size + 16, bloom, gramBits)],
        ['step and window edges', edgeHits(size + 16, bloom, gramBits)],
      ]
      const kernels = bodies.map(body => new AnchorKernel(bloom, bloom2, gramBits, short, undefined, body))
      assert.deepEqual(kernels.map(k => k.body), bodies)
      for (const [name, whole] of inputs) {
        // A sub-array at each alignment (the window copy keeps the source's offset mod 8).
        const shift = randomInt(8)
        const buf = whole.subarray(shift)
        const lengths = [1, 2, 3, 15, 16, 17, 31, 32, 33, 47, ...[-17, -16, -15, -3, -1, 0, 1, 2, 15, 16, 17].map(d => WINDOW + d), 2 * WINDOW - 1, 2 * WINDOW + 5]
        for (const length of lengths) {
          const from = randomInt(17)
          const to = from + length - 1
          if (to + 3 >= buf.length) continue
          const want = reference(buf, from, to, bloom, bloom2, gramBits, short)
          for (const kernel of kernels) {
            const got: number[] = []
            kernel.run(buf, from, to, i => { got.push(i) })
            const where = `${kernel.body}, ${name}, shift ${shift}, from ${from} length ${length}`
            assert.equal(got.length, want.length, where)
            const first = got.findIndex((i, k) => i !== want[k])
            assert.equal(first, -1, `${where}: position ${got[first] ?? ''} where ${want[first] ?? ''} was expected`)
          }
        }
      }
    })
  }

  it('find the same signatures as the JS loop in layers pushed in chunks split around window edges', () => {
    const sigs = Array.from({ length: 24 }, (_, i) => `Edge.${i}:0:*:${randomBytes(8 + (i % 9)).toString('hex')}`)
    const shortSigs = ['Edge.Short.A:0:*:a1b2c3', 'Edge.Short.B:0:*:d4e5??f6{2-4}0718']
    const db = compileText({ 'e.ndb': [...sigs, ...shortSigs].join('\n') })
    assert.equal(db.params.hasShortAnchors, true)
    const matchers = [...bodies.map(body => new Matcher(db, { kernelBody: body })), new Matcher(db, { kernel: false })]
    assert.deepEqual(matchers.map(m => m.kernel?.body), [...bodies, undefined])
    // Signatures planted so that one straddles each window edge and each 16-byte step edge around it.
    const data = new Uint8Array(randomBytes(3 * WINDOW))
    const planted = new Set<string>()
    // (At least 17 bytes apart: no two overlap.)
    const spots = [0, 13, WINDOW - 9, WINDOW + 7, WINDOW + 40, 2 * WINDOW - 15, 2 * WINDOW + 3, 3 * WINDOW - 40]
    spots.forEach((at, k) => {
      const line = sigs[k]!
      data.set(hex(line.split(':')[3]!), at)
      planted.add(line.split(':')[0]!)
    })
    data.set(hex('a1b2c3'), WINDOW + 100)
    data.set(hex('d4e500f60000000718'), 2 * WINDOW + 200)
    planted.add('Edge.Short.A').add('Edge.Short.B')
    for (const cut of [WINDOW - 20, WINDOW - 3, WINDOW, WINDOW + 1, WINDOW + 17, 2 * WINDOW - 16]) {
      const found = matchers.map(m => {
        const s = m.begin('unknown', data.length)
        s.push(data.subarray(0, cut))
        s.push(data.subarray(cut, cut + WINDOW + 5))
        s.push(data.subarray(cut + WINDOW + 5))
        return s.end().sort()
      })
      // Random filler may hold a 3-byte short pattern by chance; the planted ones must all be there.
      for (const name of planted) assert.ok(found[0]!.includes(name), `${name} missing, cut ${cut}`)
      for (const other of found.slice(1)) assert.deepEqual(other, found[0], `cut ${cut}`)
    }
  })
})
