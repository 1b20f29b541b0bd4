/// A generated signature DB that uses every supported ClamAV signature feature, and a corpus with
/// a positive and a near-miss negative file for each: executable offsets (on ClamAV's clam.exe and
/// this machine's /usr/bin/true, marked at offsets read from their headers), edge anchors, subsignature
/// modifiers, PCRE with its flags and offsets, byte compare, every target type and the TDB
/// conditions. Names say what they exercise; `expect` is what the case was built to show (the
/// integration test checks it against clamscan, the unit test against the engine).
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import * as CFB from 'cfb'
import { readExecutable } from '../../src/engine/executable/read.js'
import { builders } from './containers.js'

export interface FeatureFile { readonly name: string, readonly bytes: Buffer, readonly expect: string | undefined }
export interface FeatureCorpus { readonly db: Record<string, string>, readonly files: FeatureFile[] }

const h = (s: string | Buffer): string => Buffer.from(s).toString('hex')
const pad = (n: number, c = '.'): string => c.repeat(n)
const nuls = '\0'.repeat(20)

function build (format: string, name: string, bytes: Buffer): Buffer {
  const b = builders.find(x => x.format === format)
  if (b === undefined) throw new Error(`no builder ${format}`)
  return b.build({ name, bytes })
}

/// Executable-offset cases: a 12-byte marker written at the offset (positive) and one byte past
/// its window (negative), in a copy of a real executable.
function executableCases (label: string, exe: Buffer, target: number, ndb: string[], files: FeatureFile[]): void {
  const info = readExecutable(exe)
  if (info?.entryPoint === undefined) throw new Error(`${label}: no entry point`)
  const sections = info.sections.filter(s => s.rawSize >= 64 && s.rawOffset > 0)
  const s0 = info.sections.indexOf(sections[0]!)
  const last = info.sections[info.sections.length - 1]!
  const ep = info.entryPoint
  const cases: Array<{ id: string, offset: string, at: number, miss: number }> = [
    { id: 'EP_plus', offset: 'EP+4', at: ep + 4, miss: ep + 5 },
    { id: 'EP_minus', offset: 'EP-4', at: ep - 4, miss: ep - 3 },
    { id: 'EP_shift', offset: 'EP+0,8', at: ep + 6, miss: ep + 9 },
    { id: 'S_plus', offset: `S${s0}+8`, at: info.sections[s0]!.rawOffset + 8, miss: info.sections[s0]!.rawOffset + 9 },
    { id: 'SL_plus', offset: 'SL+2', at: last.rawOffset + 2, miss: last.rawOffset + 3 },
    { id: 'SE', offset: `SE${s0}`, at: info.sections[s0]!.rawOffset + 20, miss: -1 },
    { id: 'EOF_minus', offset: 'EOF-40', at: exe.length - 40, miss: exe.length - 41 },
    { id: 'Abs_shift', offset: '2,4', at: 4, miss: 7 },
  ]
  for (const c of cases) {
    const name = `Feat.Off.${c.id}.${label}`
    const marker = Buffer.from(`@${c.id}.${label}`.padEnd(12, '#').slice(0, 12))
    ndb.push(`${name}:${target}:${c.offset}:${h(marker)}`)
    const yes = Buffer.from(exe); marker.copy(yes, c.at)
    const no = Buffer.from(exe)
    // SE: the marker after every section (appended), so only the section window excludes it
    const noBytes = c.miss < 0 ? Buffer.concat([no, marker, Buffer.alloc(64)]) : (marker.copy(no, c.miss), no)
    files.push({ name: `off-${c.id}-${label}.yes`, bytes: yes, expect: name }, { name: `off-${c.id}-${label}.no`, bytes: noBytes, expect: undefined })
  }
}

function text (name: string, s: string, expect: string | undefined): FeatureFile { return { name, bytes: Buffer.from(s, 'latin1'), expect } }

export function featureCorpus (): FeatureCorpus {
  const ndb: string[] = []
  const ldb: string[] = []
  const files: FeatureFile[] = []
  const pair = (id: string, yes: string, no: string): void => { files.push(text(`${id}.yes`, yes, `Feat.${id}`), text(`${id}.no`, no, undefined)) }

  executableCases('PE', readFileSync('/usr/share/clamav-testfiles/clam-nsis.exe'), 1, ndb, files)
  executableCases('ELF', readFileSync('/usr/bin/true'), 6, ndb, files)

  // (B) (L) (W) anchors at either end
  ndb.push(`Feat.Anchor.B_left:0:*:(B)${h('bword')}`, `Feat.Anchor.B_right:0:*:${h('wordb')}(B)`, `Feat.Anchor.L_left:0:*:(L)${h('lline')}`,
    `Feat.Anchor.L_right:0:*:${h('linel')}(L)`, `Feat.Anchor.W_right:0:*:${h('wordw')}(W)`)
  pair('Anchor.B_left', 'xx bword yy', 'xxbword yy')
  pair('Anchor.B_right', 'xx wordb yy', 'xx wordb.yy')
  pair('Anchor.L_left', 'xx\nlline yy', 'xx lline yy')
  pair('Anchor.L_right', 'xx linel\nyy', 'xx linelyy')
  pair('Anchor.W_right', 'xx wordw.yy', 'xx wordwyy')

  // subsignature modifiers
  ldb.push(`Feat.Mod.i;Engine:81-255,Target:0;0;${h('nocase')}::i`, `Feat.Mod.w;Engine:81-255,Target:0;0;${h('widestr')}::w`,
    `Feat.Mod.wa;Engine:81-255,Target:0;0&1;${h('both1')}::wa;${h('both2')}::wa`, `Feat.Mod.f;Engine:81-255,Target:0;0;${h('fullw')}::f`,
    `Feat.Mod.fi;Engine:81-255,Target:0;0;${h('fuli')}::fi`, `Feat.Mod.fw;Engine:81-255,Target:0;0;${h('fulwide')}::fw`,
    `Feat.Mod.a;Engine:81-255,Target:0;0;${h('asciionly')}::a`)
  pair('Mod.i', 'xx NoCaSe yy', 'xx no case yy')
  files.push({ name: 'Mod.w.yes', bytes: Buffer.from('xx widestr yy', 'utf16le'), expect: 'Feat.Mod.w' }, text('Mod.w.no', 'xx widestr yy', undefined))
  files.push({ name: 'Mod.wa.yes', bytes: Buffer.concat([Buffer.from('both1 '), Buffer.from('both2', 'utf16le')]), expect: 'Feat.Mod.wa' }, text('Mod.wa.no', 'both1 bothx', undefined))
  pair('Mod.f', 'xx fullw yy', 'xx fullwyy')
  pair('Mod.fi', 'xx FULI.yy', 'xx aFULI yy')
  files.push({ name: 'Mod.fw.yes', bytes: Buffer.from('x fulwide.', 'utf16le'), expect: 'Feat.Mod.fw' }, { name: 'Mod.fw.no', bytes: Buffer.from('xfulwide.', 'utf16le'), expect: undefined })
  pair('Mod.a', 'xx asciionly', 'xx asciionl y')

  // PCRE: trigger, flags, offsets
  ldb.push(`Feat.Pcre.basic;Engine:81-255,Target:0;0&1;${h('pcre1')};0/abc[0-9]+def/`,
    `Feat.Pcre.i;Engine:81-255,Target:0;0&1;${h('pcre2')};0/hello\\s+world/i`,
    `Feat.Pcre.g;Engine:81-255,Target:0;0&1>1;${h('pcre3')};0/x[0-9]y/g`,
    `Feat.Pcre.s;Engine:81-255,Target:0;0&1;${h('pcre4')};0/start.end/s`,
    `Feat.Pcre.m;Engine:81-255,Target:0;0&1;${h('pcre5')};0/^line2$/m`,
    `Feat.Pcre.at;Engine:81-255,Target:0;0&1;${h('pcre6')};20:0/clamav/`,
    `Feat.Pcre.r;Engine:81-255,Target:0;0&1;${h('pcre7')};20:0/clamav/r`,
    `Feat.Pcre.e;Engine:81-255,Target:0;0&1;${h('pcre8')};20,10:0/cl[a-z]+v/e`,
    `Feat.Pcre.trigger;Engine:81-255,Target:0;2;${h('pcre9')};${h('trig')};0&1/payload/`,
    `Feat.Pcre.hexesc;Engine:81-255,Target:0;0&1;${h('pcra')};0/semi\\x3Bcolon/`)
  pair('Pcre.basic', 'pcre1 abc123def', 'pcre1 abcdef')
  pair('Pcre.i', 'pcre2 HELLO  World', 'pcre2 HELLOWorld')
  pair('Pcre.g', 'pcre3 x1y x2y', 'pcre3 x1y xzy')
  // binary (NUL-led) so that no text normalisation folds the newline into the match
  pair('Pcre.s', `${nuls}pcre4 start\nend`, `${nuls}pcre4 start\n\nend`)
  pair('Pcre.m', 'pcre5\nline1\nline2\nline3', 'pcre5\nline1\nline22\n')
  pair('Pcre.at', 'pcre6' + pad(15) + 'clamav', 'pcre6' + pad(16) + 'clamav')
  pair('Pcre.r', 'pcre7' + pad(25) + 'clamav', 'pcre7 clamav' + pad(30))
  pair('Pcre.e', 'pcre8' + pad(15) + 'clamav' + pad(10), 'pcre8' + pad(15) + 'claaaaaaaaaaav' + pad(10))
  pair('Pcre.trigger', 'pcre9 trig payload', 'pcre9 payload')
  pair('Pcre.hexesc', 'pcra semi;colon', 'pcra semi:colon')

  // byte compare
  ldb.push(`Feat.Bcmp.hex;Engine:81-255,Target:0;0&1;${h('LEN=')};0(>>4#hb2#=0x3F)`,
    `Feat.Bcmp.dec;Engine:81-255,Target:0;0&1;${h('NUM=')};0(>>4#de3#>100,<200)`,
    `Feat.Bcmp.binle;Engine:81-255,Target:0;0&1;${h('BIN:')};0(>>4#il2#=0x1234)`,
    `Feat.Bcmp.binbe;Engine:81-255,Target:0;0&1;${h('BBE:')};0(>>4#ib4#>0x10000)`,
    `Feat.Bcmp.back;Engine:81-255,Target:0;0&1;${h(':TAIL')};0(<<3#de3#=42)`)
  pair('Bcmp.hex', 'xx LEN=3F..', 'xx LEN=3E..')
  pair('Bcmp.dec', 'xx NUM=150.', 'xx NUM=250.')
  pair('Bcmp.binle', 'xx BIN:\x34\x12..', 'xx BIN:\x12\x34..')
  pair('Bcmp.binbe', 'xx BBE:\x00\x02\x00\x00..', 'xx BBE:\x00\x00\x20\x00..')
  pair('Bcmp.back', 'xx 042:TAIL', 'xx 043:TAIL')

  // target types: the same kind of marker in a file of that type (positive) and in plain data (negative)
  const mark = (t: number): string => `tgt${String(t).padStart(2, '0')}mark`
  const typed: Array<[number, Buffer]> = [
    [1, Buffer.concat([readFileSync('/usr/share/clamav-testfiles/clam.exe'), Buffer.from(mark(1))])],
    [2, ole2With(mark(2))],
    [3, Buffer.from(`<html><body><p>${mark(3)}</p></body></html>\n`)],
    [4, Buffer.from(`From: a@example.test\nTo: b@example.test\nSubject: t\n\n${mark(4)}\n`)],
    [5, Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.from(mark(5)), Buffer.alloc(32)])],
    [6, Buffer.concat([readFileSync('/usr/bin/true'), Buffer.from(mark(6))])],
    [7, Buffer.from(`Plain text line\n${mark(7).toUpperCase()}\n`)],
    [10, Buffer.from(`%PDF-1.4\n1 0 obj\n<< /Title (${mark(10)}) >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n`)],
  ]
  for (const [t, bytes] of typed) {
    const name = `Feat.Target.${t}`
    ndb.push(`${name}:${t}:*:${h(mark(t))}`)
    // negative: the marker in binary data (NUL-led: ClamAV's text sniffing would call a few
    // high bytes UTF-16 text and normalise it)
    files.push({ name: `target-${t}.yes`, bytes, expect: name }, { name: `target-${t}.no`, bytes: Buffer.from(`${nuls}${mark(t)}\0`, 'latin1'), expect: undefined })
  }
  // target 7 matches normalised text: case and whitespace runs do not matter there
  ndb.push(`Feat.Target.7norm:7:*:${h('alpha beta gamma')}`)
  files.push(text('target-7norm.yes', 'x ALPHA\t\n  Beta   GAMMA x\n', 'Feat.Target.7norm'), text('target-7norm.no', 'x ALPHA\t\n  Beta-GAMMA x\n', undefined))
  htmlCases(ndb, ldb, files)

  // TDB conditions
  const clam = readFileSync('/usr/share/clamav-testfiles/clam.exe')
  const clamInfo = readExecutable(clam)!
  const ep = clamInfo.entryPoint!
  const nsec = clamInfo.sections.length
  ldb.push(`Feat.Tdb.FileSize;Engine:51-255,Target:0,FileSize:20-40;0;${h('tdbsize')}`,
    `Feat.Tdb.EntryPoint;Engine:51-255,Target:1,EntryPoint:${ep}-${ep};0;${h('tdbentry')}`,
    `Feat.Tdb.Sections;Engine:51-255,Target:1,NumberOfSections:${nsec}-${nsec};0;${h('tdbsects')}`,
    `Feat.Tdb.Container;Engine:51-255,Target:0,Container:CL_TYPE_ZIP;0;${h('tdbcontain')}`,
    `Feat.Tdb.Intermediates;Engine:81-255,Target:0,Intermediates:CL_TYPE_POSIX_TAR>CL_TYPE_ZIP;0;${h('tdbinter')}`,
    `Feat.Tdb.Engine;Engine:51-255,Target:0;0;${h('tdbengine')}`,
    `Feat.Tdb.EngineFuture;Engine:250-255,Target:0;0;${h('tdbfuture')}`)
  pair('Tdb.FileSize', 'xx tdbsize ' + pad(15), 'xx tdbsize ' + pad(40))
  files.push({ name: 'Tdb.EntryPoint.yes', bytes: Buffer.concat([clam, Buffer.from('tdbentry')]), expect: 'Feat.Tdb.EntryPoint' },
    { name: 'Tdb.EntryPoint.no', bytes: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(100), Buffer.from('tdbentry')]), expect: undefined })
  files.push({ name: 'Tdb.Sections.yes', bytes: Buffer.concat([clam, Buffer.from('tdbsects')]), expect: 'Feat.Tdb.Sections' },
    { name: 'Tdb.Sections.no', bytes: Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from('tdbsects')]), expect: undefined })
  files.push({ name: 'Tdb.Container.yes.zip', bytes: build('zip (stored)', 'inner.bin', Buffer.from('xx tdbcontain yy')), expect: 'Feat.Tdb.Container' },
    { name: 'Tdb.Container.no', bytes: Buffer.from('xx tdbcontain yy'), expect: undefined })
  files.push({ name: 'Tdb.Intermediates.yes.tar', bytes: build('tar (ustar)', 'i.zip', build('zip (stored)', 'inner.bin', Buffer.from('xx tdbinter yy'))), expect: 'Feat.Tdb.Intermediates' },
    { name: 'Tdb.Intermediates.no.zip', bytes: build('zip (stored)', 'inner.bin', Buffer.from('xx tdbinter yy')), expect: undefined })
  pair('Tdb.Engine', 'xx tdbengine yy', 'xx tdbengin yy')
  files.push(text('Tdb.EngineFuture.no', 'xx tdbfuture yy', undefined))
  // .mdb: the MD5 of a PE section's raw data (positive), the same PE with one byte of it changed (negative)
  const nsis = readFileSync('/usr/share/clamav-testfiles/clam-aspack.exe')
  const rdata = readExecutable(nsis)!.sections[1]!
  const md5 = createHash('md5').update(nsis.subarray(rdata.rawOffset, rdata.rawOffset + rdata.rawSize)).digest('hex')
  const changed = Buffer.from(nsis)
  changed[rdata.rawOffset + 10] = changed[rdata.rawOffset + 10]! ^ 0xff
  files.push({ name: 'mdb-section.yes', bytes: nsis, expect: 'Feat.Mdb.Section' }, { name: 'mdb-section.no', bytes: changed, expect: undefined })
  return { db: { 'features.ndb': ndb.join('\n') + '\n', 'features.ldb': ldb.join('\n') + '\n', 'features.mdb': `${rdata.rawSize}:${md5}:Feat.Mdb.Section\n` }, files }
}

/// Target 3 matches ClamAV's normalised HTML (nocomment: lower case, comments out, references
/// decoded, one space per whitespace run; notags: the text alone), never the raw page; the raw page
/// gets target 0 only, and target 7 does not reach HTML text. Each positive matches only a
/// normalised form; the `.no` files are near misses, or signatures that match only the raw bytes.
function htmlCases (ndb: string[], ldb: string[], files: FeatureFile[]): void {
  const page = (body: string): string => `<html><body>${body}</body></html>\n`
  const html = (id: string, yes: string, no: string): void => {
    files.push(text(`Html.${id}.yes.html`, page(yes), `Feat.Html.${id}`), text(`Html.${id}.no.html`, page(no), undefined))
  }
  ndb.push(`Feat.Html.Case:3:*:${h('<iframe src="http://evil.test/x">')}`)
  html('Case', '<IFRAME SRC=\'HTTP://EVIL.TEST/X\'></IFRAME>', '<IFRAME SRC=\'HTTP://GOOD.TEST/X\'></IFRAME>')
  ndb.push(`Feat.Html.Comment:3:*:${h('splitpayload')}`)
  html('Comment', 'split<!-- hidden -->  payload', 'split payload')
  ndb.push(`Feat.Html.Entity:3:*:${h('<script>evil()</script>')}`)
  html('Entity', '&lt;script&gt;&#101;&#x76;il()&lt;/script&gt;', '&lt;script&gr;evil()&lt;/script&gt;')
  ndb.push(`Feat.Html.Space:3:*:${h('<p>one two three</p>')}`)
  html('Space', '<P>One\n\t  Two\r\n   THREE</P>', '<P>One-Two THREE</P>')
  ndb.push(`Feat.Html.NoTags:3:*:${h(' alpha bravo charlie ')}`)
  html('NoTags', '<b>Alpha</b><i>Bravo</i><u>Charlie</u><br>', '<b>Alpha</b>Bravo-<u>Charlie</u><br>')
  ndb.push(`Feat.Html.Href:3:*:${h(' http://Evil.Example/Path ')}`)
  html('Href', '<a HREF="http://Evil.Example/Path">click</a>', '<a title="http://Evil.Example/Path">click</a>')
  ndb.push(`Feat.Html.Script:3:*:${h('<script>varx="abc";eval(x)</script>')}`)
  html('Script', "<SCRIPT>var X = 'Abc';\n  eval(X)</SCRIPT>", "<SCRIPT>var X = 'Abd';\n  eval(X)</SCRIPT>")
  // target 0 matches the normalised forms too
  ndb.push(`Feat.Html.Target0:0:*:${h('zero<decoded>here')}`)
  html('Target0', 'ZERO&lt;decoded&gt;here', 'ZERO&lt;decoded&gt; here')
  // an ldb whose subsignatures meet only in the normalised page
  ldb.push(`Feat.Html.Ldb;Engine:51-255,Target:3;0&1;${h('<object data="x.swf">')};${h('ldbpayload')}`)
  html('Ldb', '<OBJECT Data=\'X.SWF\'></OBJECT> LdbPayload', '<OBJECT Data=\'X.SWF\'></OBJECT> LdbPayloat')
  // raw-only: a target-3 signature written for the raw bytes misses; target 0 finds them raw only
  // when ClamAV's type detector saw no HTML marker in the first 1024 bytes (else it skips the raw scan)
  ndb.push(`Feat.Html.RawOnly3:3:*:${h('<SCRIPT>RawOnly')}`, `Feat.Html.Raw0:0:*:${h('<SCRIPT>Raw0')}`)
  files.push(text('Html.RawOnly3.no.html', page('<SCRIPT>RawOnly()</SCRIPT>'), undefined),
    text('Html.Raw0.no.html', page('<SCRIPT>Raw0()</SCRIPT>'), undefined),
    text('Html.Raw0.yes.html', `${'Plain text before the page. '.repeat(40)}\n${page('<SCRIPT>Raw0()</SCRIPT>')}`, 'Feat.Html.Raw0'))
  // target 7 (normalised text) does not apply to an HTML page's text in ClamAV
  ndb.push(`Feat.Html.Target7:7:*:${h('seven in html')}`)
  files.push(text('Html.Target7.no.html', page('<p>Seven  in HTML</p>'), undefined))
}

function ole2With (marker: string): Buffer {
  const doc = CFB.utils.cfb_new()
  CFB.utils.cfb_add(doc, '/Contents', Buffer.from(`${marker}${'.'.repeat(5000)}`))
  return Buffer.from(CFB.write(doc, { type: 'buffer' }) as Uint8Array)
}
