/// Signature features beyond plain hex (issue #11): executable offsets, (B)/(L)/(W) anchors, `::f`,
/// PCRE, byte compare, TDB conditions and target-7 normalised text, one behaviour per test, through
/// the matcher as the engine drives it (test/integration/signature-features.test.ts checks the same
/// features against clamscan).
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { match, matcherFor } from '../helpers/sigdb.js'
import { offsetWindow, parseOffset } from '../../src/engine/signatures/offset.js'
import { parseByteCompare, byteCompareHolds } from '../../src/engine/signatures/bytecmp.js'
import { normaliseText } from '../../src/engine/matcher/textnorm.js'
import { readExecutable } from '../../src/engine/executable/read.js'
import type { ExecutableInfo } from '../../src/engine/executable/types.js'

const h = (s: string): string => Buffer.from(s).toString('hex')
const b = (s: string): Buffer => Buffer.from(s, 'latin1')
const ldb = (subs: string, expr = '0&1', tdb = 'Engine:81-255,Target:0'): Record<string, string> => ({ 'f.ldb': `Feat;${tdb};${expr};${subs}\n` })

describe('engine: executable offsets', () => {
  const exe: ExecutableInfo = {
    format: 'pe',
    entryPoint: 100,
    entryAddress: 0x1100,
    imageBase: 0,
    sectionAlignment: 0,
    fileAlignment: 0,
    overlayOffset: 400,
    sections: [{ name: 'a', virtualAddress: 0x1000, virtualSize: 100, rawOffset: 50, rawSize: 100 }, { name: 'b', virtualAddress: 0x2000, virtualSize: 100, rawOffset: 200, rawSize: 200 }],
  }
  const cases: Array<[string, [number, number] | undefined]> = [
    ['EP+4', [104, 104]], ['EP-4,2', [96, 98]], ['S1+8', [208, 208]], ['SL+2', [202, 202]], ['SE0', [50, 150]], ['S5+0', undefined], ['EOF-10', [390, 390]],
  ]
  for (const [text, want] of cases) {
    it(`${text} resolves against the layout`, () => {
      const o = parseOffset(text)
      assert.ok(typeof o !== 'string', String(o))
      assert.deepEqual(offsetWindow(o, 400, exe), want)
    })
  }

  it('does not apply to layers that are not executables', () => {
    const o = parseOffset('EP+0')
    assert.ok(typeof o !== 'string')
    assert.equal(offsetWindow(o, 400, undefined), undefined)
  })

  it('matches EP+n on a real PE and nowhere else', () => {
    const pe = readFileSync('/usr/share/clamav-testfiles/clam-nsis.exe')
    const ep = readExecutable(pe)!.entryPoint!
    const m = matcherFor({ 'e.ndb': `Ep.Sig:1:EP+2:${pe.subarray(ep + 2, ep + 10).toString('hex')}\n` })
    assert.deepEqual(match(m, pe, { type: 'pe' }), ['Ep.Sig'])
    assert.deepEqual(match(m, pe, { type: 'pe', chunk: 4096 }), ['Ep.Sig'])
    const moved = Buffer.concat([Buffer.alloc(1), pe])
    assert.deepEqual(match(m, moved, { type: 'unknown' }), [])
  })
})

describe('engine: anchors and fullword', () => {
  const m = matcherFor({
    'a.ndb': [`B.L:0:*:(B)${h('bword')}`, `B.R:0:*:${h('wordb')}(B)`, `L.L:0:*:(L)${h('lline')}`, `L.R:0:*:${h('linel')}(L)`, `W.R:0:*:${h('wordw')}(W)`].join('\n'),
  })
  const cases: Array<[string, string[]]> = [
    ['x bword', ['B.L']], ['bword', ['B.L']], ['xbword', []],
    ['x wordb', ['B.R']], ['wordb y', ['B.R']], ['wordb.', []],
    ['x\nlline', ['L.L']], ['lline', []], ['linel\n', ['L.R']], ['linel\r\n', ['L.R']], ['linel\r', []],
    ['wordw.', ['W.R']], ['wordw', ['W.R']], ['wordwx', []],
  ]
  for (const [text, want] of cases) it(`${JSON.stringify(text)} → ${want.join(',') || 'clean'}`, () => { assert.deepEqual(match(m, b(text)), want) })

  it('reports a leading (W) and anchors between bytes as unsupported', () => {
    const u = matcherFor({ 'a.ndb': `X:0:*:(W)${h('abcd')}\nY:0:*:${h('ab')}(B)${h('cd')}\nZ:0:*:${h('zzzz')}\n` })
    assert.equal(u.db.stats.unsupported, 2)
  })

  it('::f needs non-alphanumeric neighbours (a character back for ::w) but not the whole layer', () => {
    const f = matcherFor(ldb(`${h('fully')}::f`, '0'))
    assert.deepEqual(match(f, b('a fully.')), ['Feat'])
    assert.deepEqual(match(f, b('a_fully b')), ['Feat'])
    assert.deepEqual(match(f, b('afully b')), [])
    assert.deepEqual(match(f, b('fully')), [])
    const fw = matcherFor(ldb(`${h('wfull')}::fw`, '0'))
    assert.deepEqual(match(fw, Buffer.from('.wfull.', 'utf16le')), ['Feat'])
    assert.deepEqual(match(fw, Buffer.from('awfull.', 'utf16le')), [])
  })
})

describe('engine: PCRE subsignatures (re2js)', () => {
  const t = h('trig')
  const cases: Array<[string, string, string, string[]]> = [
    ['basic', `${t};0/abc[0-9]+def/`, 'trig abc12def', ['trig abcdef']],
    ['i', `${t};0/HELLO/i`, 'trig hello', ['trig hallo']],
    ['at offset', `${t};10:0/clam/`, 'trig......clam', ['trig.......clam']],
    ['r rolling', `${t};10:0/clam/r`, 'trig............clam', ['trig clam......']],
    ['e encompass', `${t};10,4:0/cl.*m/e`, 'trig......clam', ['trig......cl....m']],
    ['A anchored', `${t};0/trig/A`, 'trig x', ['xtrig']],
    ['U ungreedy', `${t};0/a.+b$/U`, 'trig axb', ['trig ab']],
  ]
  for (const [name, subs, yes, no] of cases) {
    it(`${name}`, () => {
      const m = matcherFor(ldb(subs))
      assert.deepEqual(match(m, b(yes)), ['Feat'], yes)
      for (const n of no) assert.deepEqual(match(m, b(n)), [], n)
    })
  }

  it('counts every match with g, the first only without', () => {
    const g = matcherFor(ldb(`${t};0/x[0-9]/g`, '0&1>1'))
    assert.deepEqual(match(g, b('trig x1 x2')), ['Feat'])
    assert.deepEqual(match(g, b('trig x1 xx')), [])
    const one = matcherFor(ldb(`${t};0/x[0-9]/`, '0&1>1'))
    assert.deepEqual(match(one, b('trig x1 x2')), [])
  })

  it('runs only when its trigger holds', () => {
    const m = matcherFor(ldb(`${t};${h('gate')};0&1/payload/`, '2'))
    assert.deepEqual(match(m, b('trig gate payload')), ['Feat'])
    assert.deepEqual(match(m, b('trig payload')), [])
  })

  it('counts expressions RE2 cannot run (look-around, back-references) and the x flag as unsupported', () => {
    const m = matcherFor({ 'f.ldb': [`A;Target:0;0&1;${t};0/(?=a)b/`, `B;Target:0;0&1;${t};0/(a)\\1/`, `C;Target:0;0&1;${t};0/a b/x`, `D;Target:0;0;${t}`].join('\n') })
    assert.equal(m.db.stats.unsupported, 3)
    assert.ok(Object.keys(m.db.stats.unsupportedReasons).some(r => r.startsWith('PCRE outside RE2')))
  })

  it('stays linear on input that makes backtracking engines explode', () => {
    const m = matcherFor(ldb(`${t};0/(a+)+$/`))
    const evil = b('trig ' + 'a'.repeat(50_000) + '!')
    assert.deepEqual(match(m, evil), [])
  })
})

describe('engine: byte compare subsignatures', () => {
  const at = (spec: string, data: string): boolean => {
    const s = parseByteCompare(spec)
    assert.ok(typeof s !== 'string', String(s))
    return byteCompareHolds(s, b(data), [0])
  }
  it('reads hex, decimal and binary numbers and compares them', () => {
    assert.equal(at('0(>>4#hb2#=0x3F)', 'LEN=3F'), true)
    assert.equal(at('0(>>4#hb2#=0x3F)', 'LEN=3E'), false)
    assert.equal(at('0(>>4#de3#>100,<200)', 'NUM=150'), true)
    assert.equal(at('0(>>4#de3#>100,<200)', 'NUM=250'), false)
    assert.equal(at('0(>>4#il2#=0x1234)', 'BIN:\x34\x12'), true)
    assert.equal(at('0(>>4#ib2#=0x1234)', 'BIN:\x12\x34'), true)
    assert.equal(at('0(>>4#ib8#=1)', 'BIN:\0\0\0\0\0\0\0\x01'), true)
  })
  it('honours exact (e) and short reads', () => {
    assert.equal(at('0(>>4#d3#=12)', 'NUM=12x'), true)
    assert.equal(at('0(>>4#de3#=12)', 'NUM=12x'), false)
    assert.equal(at('0(>>4#ib4#=1)', 'BIN:\0\0'), false)
  })
  it('rejects malformed options with a reason', () => {
    assert.equal(typeof parseByteCompare('0(>>4#dl2#=1)'), 'string')
    assert.equal(typeof parseByteCompare('0(>>4#ib3#=1)'), 'string')
    assert.equal(typeof parseByteCompare('0(>>4#hb2#~1)'), 'string')
  })
  it('applies backwards (<<) from the trigger match in a rule', () => {
    const m = matcherFor(ldb(`${h(':TAIL')};0(<<3#de3#=42)`))
    assert.deepEqual(match(m, b('xx 042:TAIL')), ['Feat'])
    assert.deepEqual(match(m, b('xx 043:TAIL')), [])
  })
})

describe('engine: TDB conditions', () => {
  it('Container and Intermediates look at the containers of the layer', () => {
    const c = matcherFor(ldb(h('inside'), '0', 'Engine:51-255,Target:0,Container:CL_TYPE_ZIP'))
    assert.deepEqual(match(c, b('x inside'), { ancestry: ['zip'] }), ['Feat'])
    assert.deepEqual(match(c, b('x inside'), { ancestry: ['zip', 'tar'] }), [])
    assert.deepEqual(match(c, b('x inside')), [])
    const i = matcherFor(ldb(h('inside'), '0', 'Engine:81-255,Target:0,Intermediates:CL_TYPE_ANY>CL_TYPE_ZIP'))
    assert.deepEqual(match(i, b('x inside'), { ancestry: ['tar', 'zip'] }), ['Feat'])
    assert.deepEqual(match(i, b('x inside'), { ancestry: ['zip'] }), [])
  })
  it('EntryPoint and NumberOfSections read the executable layout', () => {
    const pe = readFileSync('/usr/share/clamav-testfiles/clam-nsis.exe')
    const info = readExecutable(pe)!
    const tail = Buffer.concat([pe, b('tdbmark')])
    const ep = matcherFor(ldb(h('tdbmark'), '0', `Target:1,EntryPoint:${info.entryPoint!}-${info.entryPoint!}`))
    assert.deepEqual(match(ep, tail, { type: 'pe' }), ['Feat'])
    const off = matcherFor(ldb(h('tdbmark'), '0', `Target:1,EntryPoint:0-${info.entryPoint! - 1}`))
    assert.deepEqual(match(off, tail, { type: 'pe' }), [])
    const n = info.sections.length
    assert.deepEqual(match(matcherFor(ldb(h('tdbmark'), '0', `Target:1,NumberOfSections:${n}-${n}`)), tail, { type: 'pe' }), ['Feat'])
    assert.deepEqual(match(matcherFor(ldb(h('tdbmark'), '0', `Target:1,NumberOfSections:${n + 1}-99`)), tail, { type: 'pe' }), [])
  })
  it('skips rules for a later engine and icon groups with a reason', () => {
    const m = matcherFor({ 'f.ldb': [`A;Engine:250-255,Target:0;0;${h('aaaa')}`, `B;Target:1,IconGroup1:x;0;${h('bbbb')}`, `C;Target:0;0;${h('cccc')}`].join('\n') })
    assert.equal(m.db.stats.unsupported, 2)
    assert.equal(Object.keys(m.db.stats.unsupportedReasons).length, 2)
  })
})

describe('engine: target 7 (normalised text)', () => {
  it('normalises as ClamAV does: lower case, one space per whitespace run, no control or high bytes', () => {
    assert.equal(Buffer.from(normaliseText(b('A\t\r\n B\x01C\xe9D  '))).toString('latin1'), 'a bcd ')
  })
  it('matches target-7 and target-0 rules on the normalised text of text layers only', () => {
    const m = matcherFor({ 't.ndb': `T7:7:*:${h('alpha beta')}\nT0:0:*:${h('gamma delta')}\n` })
    assert.deepEqual(match(m, b('x ALPHA \n\t Beta x'), { type: 'text' }), ['T7'])
    assert.deepEqual(match(m, b('x GAMMA   delta x'), { type: 'text' }), ['T0'])
    assert.deepEqual(match(m, b('x ALPHA \n\t Beta x'), { type: 'unknown' }), [])
    assert.deepEqual(match(m, b('x alpha beta x'), { type: 'unknown' }), [])
  })
  it('costs nothing on layers of a DB without target-7 or ext rules', () => {
    const m = matcherFor({ 't.ndb': `T0:0:*:${h('gamma delta')}\n` })
    const s = m.begin('text', 10)
    s.push(b('0123456789'))
    s.end()
    assert.equal(s.needsBytes, false)
  })
})

describe('engine: other DB file kinds', () => {
  const ndb = 'Info.Sig:0:*:deadbeefcafe\n'
  const sha = (s: string): string => createHash('sha256').update(s).digest('hex')
  it('verifies a .info list against the files beside it', () => {
    const info = `ClamAV-VDB:x\nd.ndb:${ndb.length}:${sha(ndb)}\nDSIG:abc\n`
    assert.equal(matcherFor({ 'd.info': info, 'd.ndb': ndb }).db.stats.bodies, 1)
    assert.throws(() => matcherFor({ 'd.info': info, 'd.ndb': ndb.replace('cafe', 'cafd') }), /d\.info: d\.ndb does not match its SHA-256/)
    assert.throws(() => matcherFor({ 'd.info': info.replace('d.ndb', 'e.ndb'), 'd.ndb': ndb }), /e\.ndb is listed but missing/)
  })
  it('counts .cdb, .crb, .idb, .pdb, .wdb, .ftm and .cbc as unsupported, each with its reason', () => {
    const m = matcherFor({ 'd.ndb': ndb, 'x.cdb': 'a:b\n', 'x.crb': 'a:b\n', 'x.idb': 'a:b\n', 'x.pdb': 'R:example.test\n', 'x.wdb': 'X:a:b\n', 'x.ftm': '0:0:4d5a:PE:CL_TYPE_ANY:CL_TYPE_MSEXE\n', 'x.cbc': 'ClamBC\nmore\n' })
    assert.equal(m.db.stats.unsupported, 7)
    assert.equal(Object.keys(m.db.stats.unsupportedReasons).length, 7)
  })

  it('matches .mdb/.msb PE section hashes on PE layers only', () => {
    const pe = readFileSync('/usr/share/clamav-testfiles/clam-nsis.exe')
    const s = readExecutable(pe)!.sections[1]!
    const raw = pe.subarray(s.rawOffset, s.rawOffset + s.rawSize)
    const m = matcherFor({ 'x.mdb': `${s.rawSize}:${createHash('md5').update(raw).digest('hex')}:Sec.Md5\n`, 'x.msb': `*:${createHash('sha256').update(raw).digest('hex')}:Sec.Sha256\n` })
    assert.deepEqual(match(m, pe, { type: 'pe' }).sort(), ['Sec.Md5', 'Sec.Sha256'])
    assert.deepEqual(match(m, pe, { type: 'unknown' }), [])
    const changed = Buffer.from(pe)
    changed[s.rawOffset] = changed[s.rawOffset]! ^ 1
    assert.deepEqual(match(m, changed, { type: 'pe' }), [])
  })
})
