import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { hex, match, matcherFor } from '../helpers/sigdb.js'

describe('engine: streaming across chunk boundaries', () => {
  const m = matcherFor({
    's.ndb': [
      'Split.Plain:0:*:0102030405060708090a0b0c0d0e0f10',
      'Split.Anchor.Late:0:*:????????????????????????????????aabbccdd', // anchor far from the part start
      'Split.Star:0:*:1111111111*2222222222',
      'Split.Range:0:*:3333333333{10-20}4444444444',
      'Split.Eof:0:EOF-6:5555555555',
    ].join('\n'),
    'l.ldb': 'Split.Logical;Target:0;0&1;6666666666;7777777777',
  })
  const sample = Buffer.concat([
    randomBytes(50), hex('0102030405060708090a0b0c0d0e0f10'),
    randomBytes(7), hex('aabbccdd'),
    randomBytes(9), hex('1111111111'), randomBytes(40), hex('2222222222'),
    randomBytes(3), hex('3333333333'), randomBytes(15), hex('4444444444'),
    randomBytes(5), hex('6666666666'), randomBytes(5), hex('7777777777'),
    randomBytes(30), hex('5555555555'), randomBytes(1),
  ])
  const everything = ['Split.Anchor.Late', 'Split.Eof', 'Split.Logical', 'Split.Plain', 'Split.Range', 'Split.Star']

  it('finds every signature in the whole object', () => {
    assert.deepEqual(match(m, sample).sort(), everything)
  })

  it('finds every signature whatever the chunk size (1 to 97 bytes)', () => {
    for (let chunk = 1; chunk <= 97; chunk++) assert.deepEqual(match(m, sample, { chunk }).sort(), everything, `chunk ${chunk}`)
  })

  it('finds a signature split at every possible point between two chunks', () => {
    const one = Buffer.concat([randomBytes(20), hex('0102030405060708090a0b0c0d0e0f10'), randomBytes(20)])
    for (let cut = 1; cut < one.length; cut++) {
      const s = m.begin('unknown', one.length)
      s.push(one.subarray(0, cut))
      s.push(one.subarray(cut))
      assert.deepEqual(s.end(), ['Split.Plain'], `cut at ${cut}`)
    }
  })

  it('does not match a signature whose halves are in different layers', () => {
    const a = m.begin('unknown', 8); a.push(hex('0102030405060708'))
    const b = m.begin('unknown', 8); b.push(hex('090a0b0c0d0e0f10'))
    assert.deepEqual([...a.end(), ...b.end()], [])
  })

  it('keeps no more than the bytes it needs: a part truncated at the end never matches', () => {
    assert.deepEqual(match(m, hex('0102030405060708090a0b0c0d0e0f'), { chunk: 3 }), [])
  })

  it('finds the same signatures with the WebAssembly anchor scan (long ranges) and the JS loop (short chunks)', () => {
    const sigs = Array.from({ length: 50 }, (_, i) => `Many.${i}:0:*:${randomBytes(12).toString('hex')}`)
    const many = matcherFor({ 'm.ndb': sigs.join('\n') })
    assert.ok(many.kernel !== undefined)
    const parts: Buffer[] = []
    for (const line of sigs.filter((_, i) => i % 2 === 0)) parts.push(randomBytes(20_000), hex(line.split(':')[3] ?? ''))
    const data = Buffer.concat(parts)
    const expected = sigs.filter((_, i) => i % 2 === 0).map(l => l.split(':')[0]).sort()
    assert.deepEqual(match(many, data).sort(), expected)
    assert.deepEqual(match(many, data, { chunk: 200 }).sort(), expected)
  })

  it('resumes the anchor scan when one range has more Bloom hits than the hit buffer holds', () => {
    const m2 = matcherFor({ 'r.ndb': 'Repeat.End:0:*:deadbeefdeadbeef01' })
    const data = Buffer.concat([Buffer.from('deadbeef'.repeat(300_000), 'hex'), hex('01')])
    assert.deepEqual(match(m2, data), ['Repeat.End'])
    assert.deepEqual(match(m2, data.subarray(0, data.length - 1)), [])
  })

  it('finds signatures anchored on only 2 fixed bytes, in long ranges (WebAssembly) and short chunks (JS)', () => {
    const m3 = matcherFor({ 's.ndb': 'Short.Three:0:*:a1b2c3\nShort.Gapped:0:*:d4e5??f6{5-9}0718\nLong.Four:0:*:deadbeef01\n' })
    assert.equal(m3.db.params.hasShortAnchors, true)
    const data = Buffer.concat([randomBytes(50_000), hex('a1b2c3'), randomBytes(50_000), hex('d4e500f6'), randomBytes(7), hex('0718'), randomBytes(30_000), hex('deadbeef01'), randomBytes(10)])
    for (const chunk of [undefined, 100, 7]) {
      const found = match(m3, data, chunk === undefined ? {} : { chunk })
      // Random filler may hold a short pattern by chance; the planted ones must all be found.
      for (const name of ['Long.Four', 'Short.Gapped', 'Short.Three']) assert.ok(found.includes(name), `${name} with chunk ${chunk ?? 'whole'}`)
    }
    assert.deepEqual(match(m3, hex('a1b2..c3d4e5f6..........0718deadbeef')), [])
  })
})
