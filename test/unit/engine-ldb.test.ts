import assert from 'node:assert/strict'
import { hex, match, matcherFor } from '../helpers/sigdb.js'
import { parseExpr, holds } from '../../src/engine/matcher/logic.js'

const A = 'aaaaaaaa01'
const B = 'bbbbbbbb02'
const C = 'cccccccc03'
const rule = (expr: string, subs = [A, B, C], tdb = 'Target:0'): string => `Logic.Test;${tdb};${expr};${subs.join(';')}\n`
const body = (...parts: string[]): Buffer => hex(parts.map(p => `....${p}....`).join(''))

describe('engine: logical signatures (.ldb)', () => {
  const cases: Array<{ expr: string, yes: Buffer[], no: Buffer[] }> = [
    { expr: '0&1', yes: [body(A, B), body(B, A)], no: [body(A), body(B, C)] },
    { expr: '0|1', yes: [body(A), body(B)], no: [body(C)] },
    { expr: '(0|1)&2', yes: [body(B, C)], no: [body(A, B)] },
    { expr: '0>2', yes: [body(A, A, A)], no: [body(A, A)] },
    { expr: '0=2', yes: [body(A, A)], no: [body(A), body(A, A, A)] },
    { expr: '2&0<2', yes: [body(C), body(C, A)], no: [body(C, A, A)] },
    { expr: '(0|1|2)>1,2', yes: [body(A, B), body(A, A, C)], no: [body(A, A, A)] },
    { expr: '(0|1)=2,2', yes: [body(A, B)], no: [body(A, A), body(A, B, B)] },
  ]
  for (const c of cases) {
    const m = matcherFor({ 'r.ldb': rule(c.expr) })
    it(`${c.expr} holds when it should`, () => { for (const b of c.yes) assert.deepEqual(match(m, b), ['Logic.Test']) })
    it(`${c.expr} does not hold otherwise`, () => { for (const b of c.no) assert.deepEqual(match(m, b), []) })
  }

  it('honours subsignature offsets', () => {
    const m = matcherFor({ 'r.ldb': rule('0&1', [`4:${A}`, `EOF-5:${B}`]) })
    assert.deepEqual(match(m, hex(`........${A}....${B}`)), ['Logic.Test'])
    assert.deepEqual(match(m, hex(`..........${A}....${B}`)), [])
    assert.deepEqual(match(m, hex(`........${A}....${B}..`)), [])
  })

  it('honours the ::i (nocase), ::w (wide) and ::wa modifiers', () => {
    const nocase = matcherFor({ 'r.ldb': rule('0', ['68656c6c6f776f726c64::i']) })
    assert.deepEqual(match(nocase, Buffer.from('..HeLLoWorld..')), ['Logic.Test'])
    assert.deepEqual(match(matcherFor({ 'r.ldb': rule('0', ['68656c6c6f776f726c64']) }), Buffer.from('..HeLLoWorld..')), [])
    const wide = matcherFor({ 'r.ldb': rule('0', ['68656c6c6f::w']) })
    assert.deepEqual(match(wide, Buffer.from('..hello..', 'utf16le')), ['Logic.Test'])
    assert.deepEqual(match(wide, Buffer.from('..hello..')), [])
    const both = matcherFor({ 'r.ldb': rule('0', ['68656c6c6f::wa']) })
    assert.deepEqual(match(both, Buffer.from('..hello..', 'utf16le')), ['Logic.Test'])
    assert.deepEqual(match(both, Buffer.from('..hello..')), ['Logic.Test'])
    assert.deepEqual(match(both, Buffer.from('..hellO..')), [])
  })

  it('honours Target and FileSize in the target description block', () => {
    const pe = matcherFor({ 'r.ldb': rule('0', [A], 'Engine:51-255,Target:1') })
    assert.deepEqual(match(pe, body(A), { type: 'pe' }), ['Logic.Test'])
    assert.deepEqual(match(pe, body(A), { type: 'unknown' }), [])
    const sized = matcherFor({ 'r.ldb': rule('0', [A], 'Target:0,FileSize:10-20') })
    assert.deepEqual(match(sized, hex(`........${A}..`)), ['Logic.Test'])
    assert.deepEqual(match(sized, hex(`....${A}` + '..'.repeat(30))), [])
  })

  it('counts PCRE outside RE2 and icon TDB keys as unsupported, malformed expressions as errors', () => {
    const m = matcherFor({ 'r.ldb': rule('0&1', [A, '0/(?=x)evil/i']) + rule('0', [A], 'Target:1,IconGroup1:foo') + rule('0', [B]) })
    assert.equal(m.db.stats.unsupported, 2)
    assert.equal(m.db.stats.logicals, 1)
    assert.throws(() => matcherFor({ 'r.ldb': rule('0&3') }), /r\.ldb:1: subsignature 3 does not exist/)
    assert.throws(() => matcherFor({ 'r.ldb': rule('0&(1') }), /r\.ldb:1: expected '\)'/)
    assert.throws(() => matcherFor({ 'r.ldb': rule('0', [A], 'Target:0,Bogus:1') }), /unknown target description key/)
  })

  it('parses and evaluates expressions independently of matching', () => {
    const e = parseExpr('((0|1)>2,2)&2', 3)
    assert.ok(typeof e !== 'string')
    assert.equal(holds(e, [2, 1, 1]), true)
    assert.equal(holds(e, [3, 0, 1]), false)
    assert.equal(holds(e, [2, 1, 0]), false)
  })
})
