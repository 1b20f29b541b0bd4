/// The streaming normalised-text pass (matcher/textnorm.ts, matcher/normalised.ts): the WebAssembly
/// normaliser against the JS reference on every byte class and chunk split, target-7 signatures
/// found across chunk boundaries in both modes (streamed; kept in memory when the DB anchors
/// target-7 rules at EOF), the normalised text never re-read, and ClamAV's MaxScriptNormalize.
import assert from 'node:assert/strict'
import { match, matcherFor } from '../helpers/sigdb.js'
import { TextNormaliser, normaliseText } from '../../src/engine/matcher/textnorm.js'
import { maxNormaliseBytes } from '../../src/engine/matcher/normalised.js'

const h = (s: string): string => Buffer.from(s).toString('hex')
const b = (s: string): Buffer => Buffer.from(s, 'latin1')

/// Deterministic pseudo-random bytes (xorshift), drawn from `alphabet` when given.
function bytes (n: number, seed: number, alphabet?: Uint8Array): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed | 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    out[i] = alphabet === undefined ? x & 0xff : alphabet[(x >>> 0) % alphabet.length]!
  }
  return out
}

function normaliseInChunks (data: Uint8Array, kernel: boolean, step: (i: number) => number): Buffer {
  const n = new TextNormaliser({ kernel })
  const parts: Buffer[] = []
  for (let at = 0, i = 0; at < data.length; i++) {
    const len = step(i)
    parts.push(Buffer.from(n.push(data.subarray(at, at + len))))
    at += len
  }
  return Buffer.concat(parts)
}

describe('engine: streaming text normalisation', () => {
  const mixed = b('aZ \t\n\r\v\f  xY.,;!~\x00\x01\x1f\x7f\x80\xe9\xff')
  for (const [label, alphabet] of [['text-like bytes', mixed], ['all 256 byte values', undefined]] as const) {
    it(`the WebAssembly normaliser equals the JS reference on ${label}, whatever the chunk split`, () => {
      for (let seed = 1; seed <= 40; seed++) {
        const data = bytes(3000 + seed * 97, seed, alphabet)
        const whole = Buffer.from(normaliseText(data, { kernel: false }))
        assert.deepEqual(normaliseInChunks(data, true, i => 1 + ((i * 7919 + seed) % 61)), whole, `seed ${seed}`)
        assert.deepEqual(normaliseInChunks(data, false, i => 1 + ((i * 31 + seed) % 17)), whole, `seed ${seed}`)
        assert.deepEqual(Buffer.from(normaliseText(data)), whole, `seed ${seed}`)
      }
    })
  }

  it('carries a whitespace run and the space state across chunk and window boundaries', () => {
    const data = b(`${'a'.repeat(65535)}  \n\tB${' '.repeat(70000)}C`)
    const want = `${'a'.repeat(65535)} b c`
    for (const kernel of [true, false]) {
      assert.equal(normaliseInChunks(data, kernel, () => 65536).toString('latin1'), want)
      assert.equal(normaliseInChunks(data, kernel, () => 1).toString('latin1'), want)
    }
  })

  // Filler that normalises to something else (upper case, whitespace runs), so offsets differ.
  const filler = (n: number): string => 'Lorem  IPSUM\r\n\tdolor '.repeat(Math.ceil(n / 21)).slice(0, n)
  const sig = 'Evil  Payload\tHERE'
  const layer = b(`${filler(3 << 20)}${sig}${filler(100)}`)
  const split = (3 << 20) + 5 // a chunk boundary inside the signature's bytes

  it('finds a target-7 signature across chunk boundaries while streaming', () => {
    const m = matcherFor({ 't.ndb': `T7:7:*:${h('evil payload here')}\n` })
    for (const chunk of [split, 1 << 20, 4099]) assert.deepEqual(match(m, layer, { type: 'text', chunk }), ['T7'], `chunk ${chunk}`)
    const s = m.begin('text', layer.length)
    for (let at = 0; at < layer.length; at += 1 << 20) s.push(layer.subarray(at, at + (1 << 20)))
    assert.deepEqual(s.end(), ['T7'])
    assert.equal(s.needsBytes, false, 'the layer is not read again for its normalised pass')
  })

  it('matches EOF-anchored target-7 rules on the normalised size (the text is kept, not re-read)', () => {
    // The filler before the signature ends in a letter and the one after starts with one, so the
    // normalised layer ends with "evil payload here" + normalise(filler(100)).
    const tail = normaliseText(b(filler(100)))
    const at = tail.length + 'evil payload here'.length
    const m = matcherFor({ 't.ndb': `E7:7:EOF-${at}:${h('evil payload here')}\nE7.off:7:EOF-${at + 1}:${h('evil payload here')}\n` })
    const s = m.begin('text', layer.length)
    for (let pos = 0; pos < layer.length; pos += 65536) s.push(layer.subarray(pos, pos + 65536))
    assert.deepEqual(s.end(), ['E7'])
    assert.equal(s.needsBytes, false)
    assert.deepEqual(match(m, layer, { type: 'text', chunk: split }), ['E7'])
  })

  it('a kept normalised text reuses the memory of one finished before it, never of one still open', () => {
    // Kept forms take the memory the last finished one gave back (derived.ts): a larger text kept
    // and finished first, then a smaller one (which takes that memory) while a third is still open,
    // each must match on its own normalised bytes only.
    const tail = normaliseText(b(filler(100)))
    const at = tail.length + 'evil payload here'.length
    const m = matcherFor({ 't.ndb': `E7:7:EOF-${at}:${h('evil payload here')}\n` })
    const big = Buffer.concat([b(filler(4 << 20)), b(sig), b(filler(100))])
    const clean = b(filler(4 << 20)) // normalised over the open form's bytes, were they shared
    assert.deepEqual(match(m, big, { type: 'text', chunk: 65536 }), ['E7'])
    const open = m.begin('text', layer.length) // takes the big form's memory
    for (let pos = 0; pos < layer.length; pos += 65536) open.push(layer.subarray(pos, pos + 65536))
    assert.deepEqual(match(m, clean, { type: 'text', chunk: 65536 }), [], 'no bytes of an earlier form')
    assert.deepEqual(open.end(), ['E7'], 'the open form kept its own bytes while another was matched')
    assert.deepEqual(match(m, clean, { type: 'text', chunk: 65536 }), [], 'the open form\'s memory, given back, holds no match for a shorter text')
    assert.deepEqual(match(m, layer, { type: 'text', chunk: split }), ['E7'])
  })

  it('leaves text layers larger than MaxScriptNormalize (20 MB) unnormalised, as ClamAV does', () => {
    const m = matcherFor({ 't.ndb': `T7:7:*:${h('evil payload here')}\nT0:0:*:${h('evil payload here')}\n` })
    const big = Buffer.alloc(maxNormaliseBytes + 1, 0x61)
    b(sig).copy(big, 1000)
    assert.deepEqual(match(m, big, { type: 'text', chunk: 1 << 20 }), [])
    const small = big.subarray(0, maxNormaliseBytes)
    assert.deepEqual(match(m, small, { type: 'text', chunk: 1 << 20 }).sort(), ['T0', 'T7'])
    b('evil payload here').copy(big, 5000)
    assert.deepEqual(match(m, big, { type: 'text', chunk: 1 << 20 }), ['T0'], 'the raw pass still runs')
  })
})
