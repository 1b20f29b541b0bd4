import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { hex, match, matcherFor } from '../helpers/sigdb.js'

/// Each row: a hex pattern, bytes it must match and bytes it must not. Samples are padded with filler
/// on both sides so that "anywhere" really means inside an object.
const syntax: Array<{ what: string, pattern: string, yes: string[], no: string[] }> = [
  { what: 'literal bytes', pattern: 'deadbeefcafe', yes: ['deadbeefcafe'], no: ['deadbeefcaff', 'deadbeef'] },
  { what: '?? any byte', pattern: 'deadbeef??cafebabe', yes: ['deadbeef00cafebabe', 'deadbeefffcafebabe'], no: ['deadbeefcafebabe', 'deadbeef0000cafebabe'] },
  { what: 'a? high nibble', pattern: 'deadbeefa?cafebabe', yes: ['deadbeefa0cafebabe', 'deadbeefafcafebabe'], no: ['deadbeefb7cafebabe'] },
  { what: '?a low nibble', pattern: 'deadbeef?acafebabe', yes: ['deadbeef0acafebabe', 'deadbeeffacafebabe'], no: ['deadbeef7bcafebabe'] },
  { what: '* any gap', pattern: 'deadbeef*cafebabe', yes: ['deadbeefcafebabe', 'deadbeef' + '11'.repeat(5000) + 'cafebabe'], no: ['cafebabe..deadbeef', 'deadbeef'] },
  { what: '{n} exact gap', pattern: 'deadbeef{3}cafebabe', yes: ['deadbeef112233cafebabe'], no: ['deadbeef1122cafebabe', 'deadbeef11223344cafebabe'] },
  { what: '{n} long exact gap', pattern: 'deadbeef{300}cafebabe', yes: ['deadbeef' + '11'.repeat(300) + 'cafebabe'], no: ['deadbeef' + '11'.repeat(301) + 'cafebabe'] },
  { what: '{-n} gap up to n', pattern: 'deadbeef{-3}cafebabe', yes: ['deadbeefcafebabe', 'deadbeef112233cafebabe'], no: ['deadbeef11223344cafebabe'] },
  { what: '{n-} gap at least n', pattern: 'deadbeef{3-}cafebabe', yes: ['deadbeef112233cafebabe', 'deadbeef' + '11'.repeat(900) + 'cafebabe'], no: ['deadbeef1122cafebabe'] },
  { what: '{n-m} bounded gap', pattern: 'deadbeef{2-4}cafebabe', yes: ['deadbeef1122cafebabe', 'deadbeef11223344cafebabe'], no: ['deadbeef11cafebabe', 'deadbeef1122334455cafebabe'] },
  { what: '[n-m] byte range gap', pattern: 'deadbeef[1-2]cafebabe', yes: ['deadbeef11cafebabe', 'deadbeef1122cafebabe'], no: ['deadbeefcafebabe', 'deadbeef112233cafebabe'] },
  { what: '(aa|bb) alternatives', pattern: 'deadbeef(aa|bb)cafebabe', yes: ['deadbeefaacafebabe', 'deadbeefbbcafebabe'], no: ['deadbeefcccafebabe'] },
  { what: '(aabb|ccdd) string alternatives', pattern: 'deadbeef(aabb|ccdd)cafebabe', yes: ['deadbeefccddcafebabe'], no: ['deadbeefaaddcafebabe'] },
  { what: '!(aa) negation', pattern: 'deadbeef!(aa|bb)cafebabe', yes: ['deadbeefcccafebabe'], no: ['deadbeefaacafebabe', 'deadbeefbbcafebabe'] },
  { what: '!(aabb) string negation', pattern: 'deadbeef!(aabb)cafebabe', yes: ['deadbeefaabccafebabe'], no: ['deadbeefaabbcafebabe'] },
  { what: 'alternatives inside the anchor', pattern: '(de|ad)beefcafe', yes: ['adbeefcafe'], no: ['0fbeefcafe'] },
  { what: 'several gaps in one pattern', pattern: 'deadbeef*11223344{2-3}55667788??99aabbcc', yes: ['deadbeef..1122334400005566778800' + '99aabbcc'], no: ['deadbeef..11223344005566778800' + '99aabbcc'] },
]

describe('engine: body signature hex syntax', () => {
  for (const row of syntax) {
    const m = matcherFor({ 't.ndb': `Test.Sig:0:*:${row.pattern}\n` })
    it(`${row.what}: ${row.pattern} matches`, () => {
      for (const y of row.yes) assert.deepEqual(match(m, Buffer.concat([randomBytes(100), hex(y), randomBytes(100)])), ['Test.Sig'], y)
    })
    it(`${row.what}: ${row.pattern} does not match near misses`, () => {
      for (const n of row.no) assert.deepEqual(match(m, Buffer.concat([hex('....'), hex(n), hex('....')])), [], n)
    })
  }

  it('rejects malformed hex with the file and line', () => {
    for (const bad of ['deadbeefz1', 'deadbeef{3', 'deadbeef(aa)', '*deadbeef', 'deadbeef*', 'dead{5-2}beef', 'deadbee']) {
      assert.throws(() => matcherFor({ 'x.ndb': `Ok:0:*:deadbeef\nBad:0:*:${bad}\n` }), (err: Error & { code?: string }) => err.code === 'SIGDB_INVALID' && err.message.includes('x.ndb:2:'), bad)
    }
  })
})

describe('engine: offsets', () => {
  const sig = 'deadbeefcafebabe'
  const at = (pos: number, size = 64): Buffer => {
    const b = Buffer.alloc(size, 0x2e)
    hex(sig).copy(b, pos)
    return b
  }
  const cases: Array<{ offset: string, yes: Buffer[], no: Buffer[] }> = [
    { offset: '*', yes: [at(0), at(56), at(17)], no: [Buffer.alloc(64, 0x2e)] },
    { offset: '10', yes: [at(10)], no: [at(9), at(11), at(0)] },
    { offset: '10,5', yes: [at(10), at(12), at(15)], no: [at(9), at(16)] },
    { offset: 'EOF-8', yes: [at(56)], no: [at(55), at(50)] },
    { offset: 'EOF-20,4', yes: [at(44), at(48)], no: [at(43), at(49)] },
  ]
  for (const c of cases) {
    const m = matcherFor({ 'o.ndb': `Off.Sig:0:${c.offset}:${sig}\n` })
    it(`offset ${c.offset} matches where it should`, () => { for (const b of c.yes) assert.deepEqual(match(m, b), ['Off.Sig']) })
    it(`offset ${c.offset} does not match elsewhere`, () => { for (const b of c.no) assert.deepEqual(match(m, b), []) })
  }

  it('applies the offset to the start of a multi-part signature', () => {
    const m = matcherFor({ 'o.ndb': 'Off.Multi:0:4:deadbeef*cafebabe\n' })
    assert.deepEqual(match(m, hex('........deadbeef........cafebabe')), ['Off.Multi'])
    assert.deepEqual(match(m, hex('..........deadbeef........cafebabe')), [])
  })

  it('reports version-information offsets as unsupported, not as malformed', () => {
    assert.throws(() => matcherFor({ 'o.ndb': 'Pe.Only:1:VI:deadbeef\n' }), /no signatures found/)
    const m = matcherFor({ 'o.ndb': 'Pe.Only:1:VI:deadbeef\nOk:0:*:cafebabe\n' })
    assert.equal(m.db.stats.unsupported, 1)
    assert.throws(() => matcherFor({ 'o.ndb': 'Bad:0:XYZ:deadbeef\n' }), /o\.ndb:1: bad offset/)
  })
})

describe('engine: target types', () => {
  const m = matcherFor({
    't.ndb': ['Any:0:*:deadbeef11', 'Pe:1:*:deadbeef22', 'Elf:6:*:deadbeef33', 'Text:7:*:deadbeef44', 'Pdf:10:*:deadbeef55'].join('\n'),
  })
  const all = hex('deadbeef11..deadbeef22..deadbeef33..deadbeef44..deadbeef55')
  it('matches typed signatures only on layers of their type', () => {
    assert.deepEqual(match(m, all, { type: 'unknown' }), ['Any'])
    assert.deepEqual(match(m, all, { type: 'pe' }).sort(), ['Any', 'Pe'])
    assert.deepEqual(match(m, all, { type: 'elf' }).sort(), ['Any', 'Elf'])
    // target 7 matches normalised text only (bytes above 0x7f dropped): see engine-features.test.ts
    assert.deepEqual(match(m, all, { type: 'text' }).sort(), ['Any'])
    assert.deepEqual(match(m, all, { type: 'pdf' }).sort(), ['Any', 'Pdf'])
  })
})
