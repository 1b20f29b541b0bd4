/// The JavaScript normaliser (matcher/jsnorm.ts) and the Script Encoder decoding (jscript-decode.ts)
/// beside Debian's clamscan 1.4.6, live: generated pages (a case per rule, seeded random token soups,
/// JScript.Encode/VBScript.Encode scripts) are scanned by clamscan with --leave-temps, and the
/// `javascript`, `nocomment.html` and `notags.html` files it writes must equal Scanwall's forms byte
/// for byte; then a DB of signatures that match only the normalised scripts (target 7, target 3,
/// target 0, an ldb) is run by `scanwall scan` and by clamscan over the same pages with near misses,
/// and both must report the same detection per file. The agreement table is printed.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { normalisePage, type PageForms } from '../../src/engine/matcher/html-pass.js'
import { clamscanForms, type ClamscanForms } from '../helpers/clamscan-forms.js'
import { encodedPages, handWritten, randomScripts, screncEncode } from '../helpers/js-pages.js'
import { styleStopPage } from '../helpers/html-pages.js'
import { requireProgram } from '../helpers/peers.js'
import { detections } from '../helpers/clamscan.js'

const cli = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.js')
const h = (s: string): string => Buffer.from(s, 'latin1').toString('hex')

/// Signatures that match only normalised script text, and the pages built to show each (yes) or
/// miss it by one detail (no).
const sigs = [
  `Js.Renamed:7:*:${h('n000="payload"')}`,
  `Js.Folded:3:*:${h('"hello world!"')}`,
  `Js.Unescaped:0:*:${h('document.write("hi")')}`,
  `Js.Packed:7:*:${h('n008.src="http://evil.test/x"')}`,
  `Js.Encoded:3:*:${h('document.write("<i>"+n000+"</i>")')}`,
  `Js.AspEncoded:3:*:${h('var secret = "asp-payload"')}`
]
const ldb = [`Js.Ldb;Engine:51-255,Target:7;0&1;${h('document.write(')};${h('"<iframe src=http://evil.test/>"')}`]
const encoded = 'var Hidden = 7; document.write("<i>" + Hidden + "</i>");'
const aspEncoded = screncEncode('var Secret = "ASP-payload"; Response.Write(Secret);')
const detectionPages: Array<[string, string, string | undefined]> = [
  ['Renamed.yes.html', '<script>var Secret = "PayLoad";</script>', 'Js.Renamed'],
  ['Renamed.no.html', '<script>Secret = "PayLoad";</script>', undefined],
  ['Folded.yes.html', '<script>x = "Hello" + " " + "World" + "!";</script>', 'Js.Folded'],
  ['Folded.no.html', '<script>x = "Hello" + " " + y + "World!";</script>', undefined],
  ['Unescaped.yes.html', '<script>eval(unescape("%64%6F%63%75%6D%65%6E%74%2E%77%72%69%74%65%28%22%68%69%22%29"));</script>', 'Js.Unescaped'],
  ['Unescaped.no.html', '<script>x(Unescape("%64%6F%63%75%6D%65%6E%74%2E%77%72%69%74%65%28%22%68%69%22%29"));</script>', undefined],
  ['Encoded.yes.html', `<script language="JScript.Encode">${screncEncode(encoded)}</script>`, 'Js.Encoded'],
  ['Encoded.no.html', `<script language="JScript.Encoded">${screncEncode(encoded)}</script>`, undefined],
  ['Ldb.yes.html', '<script>document.write("<iframe src=http://evil.test/>")</script>', 'Js.Ldb'],
  ['Ldb.no.html', '<script>document.writeln("<iframe src=http://evil.test/>")</script>', undefined],
  ['AspEncoded.yes.html', `<%@ language="JScript.Encode" %><%${aspEncoded}%>`, 'Js.AspEncoded'],
  ['AspEncoded.no.html', `<%@ language="JScript" %><%${aspEncoded}%>`, undefined]
]

describe('JavaScript normalisation beside clamscan 1.4.6 (issue #11)', function () {
  this.timeout(600_000)
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-jsnorm-'))
  const pages = [...handWritten, ...encodedPages(), ...randomScripts(40, 20261203)]
  let clam: ClamscanForms[] = []
  let ours: PageForms[] = []

  before(async () => {
    requireProgram('clamscan')
    mkdirSync(join(dir, 'pages'))
    mkdirSync(join(dir, 'db'))
    writeFileSync(join(dir, 'db', 'any.ndb'), `Js.Never:0:*:${h('never-matches-anything-here-0123')}\n`)
    const files = pages.map(([, text], i) => {
      const file = join(dir, 'pages', `page${i}.html`)
      writeFileSync(file, Buffer.from(text, 'latin1'))
      return file
    })
    clam = await clamscanForms(files, join(dir, 'db'), join(dir, 'temp'))
    ours = pages.map(([, text]) => normalisePage(Buffer.from(text, 'latin1')))
  })

  after(() => { rmSync(dir, { recursive: true, force: true }) })

  for (const form of ['javascript', 'nocomment', 'notags'] as const) {
    it(`writes clamscan's ${form} form for every page`, () => {
      const differ: string[] = []
      pages.forEach(([label], i) => {
        const theirs = clam[i]?.[form]?.toString('latin1') ?? ''
        const mine = Buffer.from(ours[i]![form]).toString('latin1')
        if (theirs !== mine) differ.push(`${label}:\n  clamscan ${JSON.stringify(theirs.slice(0, 600))}\n  scanwall ${JSON.stringify(mine.slice(0, 600))}`)
      })
      console.log(`      ${form}: ${pages.length - differ.length} / ${pages.length} pages agree`)
      assert.deepEqual(differ, [])
    })
  }

  it('the pages exercise the decoders (clamscan decoded them too)', () => {
    const js = (label: string): string => clam[pages.findIndex(([l]) => l === label)]?.javascript?.toString('latin1') ?? ''
    assert.match(js('unescape and eval'), /document\.write\("hi"\)/)
    assert.match(js('packer'), /n008\.src="http:\/\/evil\.test\/x"/)
    assert.match(js('dF encoder'), /document\.write\("<iframe src=http:\/\/evil\.test\/>"\)/)
    assert.match(js('JScript.Encode'), /document\.write\("<b>"\+n000\+"<\/b>"\)/)
  })

  it('detects what clamscan 1.4.6 misses after a style block where it stops normalising (deliberate difference)', () => {
    // libclamav's "style chunk size underflow" ends its normalisation of the page: an evasion hole a
    // page opens at will, which Scanwall does not follow (htmlnorm.ts, docs/engine.md).
    const d = join(dir, 'style')
    mkdirSync(join(d, 'db'), { recursive: true })
    mkdirSync(join(d, 'files'))
    writeFileSync(join(d, 'db', 'style.ndb'), `Style.After:3:*:${h('evil marker text')}\n`)
    const names: string[] = []
    for (let shift = -1; shift <= 7; shift++) {
      names.push(`stop${shift + 1}.html`)
      writeFileSync(join(d, 'files', `stop${shift + 1}.html`), styleStopPage(shift, 'Evil Marker Text'))
    }
    writeFileSync(join(d, 'files', 'control.html'), styleStopPage(12, 'Evil Marker Text'))
    const theirs = detections('clamscan', ['--no-summary', '--stdout', '-d', join(d, 'db'), join(d, 'files')])
    const mine = detections(process.execPath, [cli, 'scan', '--db', join(d, 'db'), '--no-summary', join(d, 'files')])
    console.log(['| file | clamscan 1.4.6 | scanwall |', '|---|---|---|', ...[...names, 'control.html'].map(n => `| ${n} | ${theirs.get(n) ?? 'clean'} | ${mine.get(n) ?? 'clean'} |`)].join('\n'))
    assert.equal(theirs.get('control.html'), 'Style.After', 'clamscan finds the marker where it does not stop')
    assert.deepEqual(names.filter(n => theirs.has(n)), [], 'clamscan 1.4.6 stops before the marker')
    assert.deepEqual(names.filter(n => mine.get(n) !== 'Style.After'), [], 'scanwall finds it')
    assert.equal(mine.get('control.html'), 'Style.After')
  })

  it('detects what clamscan detects with signatures on the normalised scripts', () => {
    const d = join(dir, 'detect')
    mkdirSync(join(d, 'db'), { recursive: true })
    mkdirSync(join(d, 'files'))
    writeFileSync(join(d, 'db', 'js.ndb'), `${sigs.join('\n')}\n`)
    writeFileSync(join(d, 'db', 'js.ldb'), `${ldb.join('\n')}\n`)
    const expected = new Map<string, string | undefined>()
    for (const [name, body, expect] of detectionPages) {
      writeFileSync(join(d, 'files', name), `<html><body>\n${body}\n</body></html>\n`)
      expected.set(name, expect)
    }
    pages.forEach(([, text], i) => writeFileSync(join(d, 'files', `page${i}.html`), Buffer.from(text, 'latin1')))
    const theirs = detections('clamscan', ['--no-summary', '--stdout', '-d', join(d, 'db'), join(d, 'files')])
    const mine = detections(process.execPath, [cli, 'scan', '--db', join(d, 'db'), '--no-summary', join(d, 'files')])
    const names = [...expected.keys(), ...pages.map((_, i) => `page${i}.html`)]
    const rows = names.map(n => `| ${n} | ${theirs.get(n) ?? 'clean'} | ${mine.get(n) ?? 'clean'} | ${theirs.get(n) === mine.get(n) ? 'yes' : 'NO'} |`)
    console.log(['| file | clamscan 1.4.6 | scanwall | agree |', '|---|---|---|---|', ...rows.filter(r => !r.includes('| clean | clean |'))].join('\n'))
    assert.deepEqual(names.filter(n => theirs.get(n) !== mine.get(n)), [])
    for (const [name, expect] of expected) assert.equal(theirs.get(name), expect, `clamscan on ${name}`)
    assert.ok([...theirs.values()].length >= 8, `clamscan found ${theirs.size}`)
  })
})
