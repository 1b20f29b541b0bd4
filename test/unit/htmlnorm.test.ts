/// The HTML normaliser (matcher/htmlnorm.ts) and the normalised-HTML pass (matcher/html-pass.ts):
/// the `nocomment` and `notags` forms of tricky pages (references, mixed case, comments, script and
/// style bodies, quoted attributes, broken markup, bytes above 0x7f, data: URIs) as clamscan 1.4.6
/// writes them (its --leave-temps files, taken as the expectations here), the same forms whatever the
/// chunk split, target-3 signatures matched on the forms and never on the raw page (nor target 0
/// when the page's head shows an HTML marker), and the limits
/// (MaxHTMLNormalize, MaxHTMLNoTags) that bound the pass.
import assert from 'node:assert/strict'
import { match, matcherFor } from '../helpers/sigdb.js'
import { HtmlNormaliser, normaliseHtml } from '../../src/engine/matcher/htmlnorm.js'
import { maxHtmlNoTagsBytes, maxHtmlNormaliseBytes } from '../../src/engine/matcher/html-pass.js'
import { ReferenceHtmlNormaliser } from '../helpers/htmlnorm-reference.js'
import { styleStopPage } from '../helpers/html-pages.js'

const h = (s: string): string => Buffer.from(s, 'latin1').toString('hex')
const b = (s: string): Buffer => Buffer.from(s, 'latin1')
const str = (u: Uint8Array): string => Buffer.from(u).toString('latin1')

/// [page, nocomment, notags], as clamscan 1.4.6 --leave-temps wrote them.
const cases: Array<[string, string, string, string]> = [
  ['references and mixed case',
    "<HTML><Body BGCOLOR='Red'>Hello   World &amp; &lt;b&gt; &#65;&#x42; &eacute; &bogus; &#256; &Kcy;</Body></HTML>",
    '<html><body bgcolor="red">hello world & <b> ab \u00e9 &bogus; &#x0100; &#x041a;</body></html>',
    ' hello world b '],
  ['comments end at the first >, <!DOCTYPE too',
    '<html><!-- hidden > shown --> text <!DOCTYPE x></html>',
    '<html>shown --> text </html>',
    ' shown --> text '],
  ['script bodies lose their whitespace, quotes become "',
    "<html><script language='JavaScript'>var  X = 'Abc';\n if (a < b) { c = \"d\" } <!-- x y --> </div></script>after</html>",
    '<html><script language="javascript">varx="abc";if(a<b){c="d"}<!--xy--></div></script>after</html>',
    ' after '],
  ['quoted attributes, href and src in the text',
    "<html><a href=\"HTTP://Ex.COM/a b\" title='x \"y\"'>Link</a><img src=Pic.GIF alt=\"a > b\"></html>",
    '<html><a href="http://ex.com/a b" title="x "y"">link</a><img src=pic.gif alt="a >b"></html>',
    ' HTTP://Ex.COM/a b link Pic.GIF b"> '],
  ['broken markup: an unterminated value',
    '<html><a href="unterminated <b>bold</b> <p x=>',
    '<html><a href="unterminated <b>bold</b><p x=>',
    ' unterminated < bold '],
  ['a < at the end',
    '<html></html><',
    '<html></html><',
    ' '],
  ['broken references',
    '<html>& &; &#; &#xZZ text &amp',
    '<html>& &; \u0000 \u0000zz text &',
    ' zz text '],
  ['bytes above 0x7f, CJK full stops',
    '<html>caf\u00c3\u00a9 \u00e3\u0080\u0082 x \u00e9t\u00e9 \u00a1C end</html>',
    '<html>caf\u00c3\u00a9 . x \u00e9t\u00e9 .\u0000 end</html>',
    ' caf\u00c3\u00c3 .x \u0000t\u0000 .\u0000end '],
  ['CR, NUL and control bytes',
    '<html>a\r\nb\u0000c\u0001d\u007fe\tf\u000bg</html>',
    '<html>a bc\u0001d\u007fe f g</html>',
    ' a bc d\u007fe f g '],
  ['data: URIs are cut out',
    "<html><img src=\"data:text/plain;base64,SGVsbG8=\" alt=x><a href='data:,Hi%20there'>t</a><img src=data:,abc alt=y></html>",
    '<html><img src="data"alt=x><a href="data">t</a><img src=dataalt=y></html>',
    ' t '],
  ['style bodies, and </script> ends them',
    '<html><style>Body { Color : Red }</style>Text<STYLE>x</script>y</html>',
    '<html><style>body{color:red}</style>text<style>x</script>y</html>',
    ' text y '],
  ['leading and trailing whitespace',
    '   \n<html> x </html>   ',
    '<html>x </html>',
    ' x '],
  ['the first href counts, references in values',
    "<html><a href=\"x&amp;y&#65;\" HREF=second>A</a><a>no</a><a href>empty</a><img SRC='Q.png'></html>",
    '<html><a href="x&ya" href=second>a</a><a>no</a><a href>empty</a><img src="q.png"></html>',
    ' x&yA a no empty Q.png '],
]

describe('engine: HTML normalisation (ClamAV target 3)', () => {
  for (const [label, page, nocomment, notags] of cases) {
    it(`writes ClamAV's nocomment and notags forms: ${label}`, () => {
      const forms = normaliseHtml(b(page))
      assert.equal(str(forms.nocomment), nocomment, 'nocomment')
      assert.equal(str(forms.notags), notags, 'notags')
    })
  }

  it('gives the same forms whatever the chunk split', () => {
    const page = b(cases.map(c => c[1]).join('\n').repeat(3))
    const whole = normaliseHtml(page)
    for (const step of [1, 2, 3, 7, 64, 4099]) {
      const n = new HtmlNormaliser()
      const nc: Buffer[] = []
      const nt: Buffer[] = []
      const keep = (f: { nocomment: Uint8Array, notags: Uint8Array }): void => { nc.push(Buffer.from(f.nocomment)); nt.push(Buffer.from(f.notags)) }
      for (let at = 0; at < page.length; at += step) keep(n.push(page.subarray(at, at + step)))
      keep(n.end())
      assert.deepEqual(Buffer.concat(nc), Buffer.from(whole.nocomment), `nocomment, chunks of ${step}`)
      assert.deepEqual(Buffer.concat(nt), Buffer.from(whole.notags), `notags, chunks of ${step}`)
    }
  })

  it('normalises past the point where libclamav stops after a style block (a deliberate difference)', () => {
    for (let shift = -1; shift <= 7; shift++) {
      const page = b(styleStopPage(shift, 'Evil Marker Text'))
      const reference = new ReferenceHtmlNormaliser()
      reference.push(page)
      reference.end()
      assert.ok(reference.stoppedAt >= 0, `shift ${shift}: libclamav would stop here`)
      const forms = normaliseHtml(page)
      assert.match(str(forms.notags), / evil marker text /, `shift ${shift}`)
      assert.match(str(forms.nocomment), /<p>evil marker text<\/p><\/body><\/html>/, `shift ${shift}`)
    }
  })

  it('survives random bytes and markup soup with output at most twice the input', () => {
    const alphabet = b('<>!&#;="\' \n\r\tabXY/-:\x00\x80\xe3\xa1%,data:script')
    let x = 0x2545f491
    for (let round = 0; round < 30; round++) {
      const page = new Uint8Array(20000)
      for (let i = 0; i < page.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; page[i] = alphabet[(x >>> 0) % alphabet.length]! }
      const forms = normaliseHtml(page)
      assert.ok(forms.nocomment.length <= 2 * page.length + 64 && forms.notags.length <= 2 * page.length + 64, `round ${round}`)
    }
  })

  const sigs = {
    'h.ndb': [
      `H3:3:*:${h('<script>evil()</script>')}`, // only after references are decoded
      `T3:3:*:${h(' alpha bravo ')}`, // only in the text form
      `R3:3:*:${h('RawOnly')}`, // raw bytes only: target 3 never sees them
      `S7:7:*:${h('seven')}`, // target 7 does not apply to HTML text
      `Z0:0:*:${h('Zero')}`, // target 0: the raw page too
    ].join('\n') + '\n',
  }
  const page = (body: string): Buffer => b(`<html><body>${body}</body></html>`)

  it('matches target-3 signatures on the normalised forms only, target 0 on all, target 7 on none', () => {
    const m = matcherFor(sigs)
    assert.deepEqual(match(m, page('&lt;script&gt;evil()&lt;/script&gt;'), { type: 'html' }), ['H3'])
    assert.deepEqual(match(m, page('<b>Alpha</b><i>Bravo</i>'), { type: 'html' }), ['T3'])
    assert.deepEqual(match(m, page('RawOnly seven SEVEN'), { type: 'html' }), [])
    assert.deepEqual(match(m, page('Zero'), { type: 'html' }), ['Z0'])
    // An HTML marker in the first 1024 bytes: ClamAV types the page HTML at once and skips its raw scan.
    for (const [bytes, want] of [[page('Zero'), []], [b(`${'plain text, no markup '.repeat(50)}${str(page('Zero'))}`), ['Z0']]] as const) {
      const s = m.begin('html', bytes.length, [], bytes.subarray(0, 1024))
      s.push(bytes)
      assert.deepEqual(s.end(), want)
    }
    assert.deepEqual(match(m, b('&lt;script&gt;evil()&lt;/script&gt;'), { type: 'text' }), [], 'a text layer is not HTML')
  })

  it('finds a target-3 signature split by chunk boundaries, streamed and kept (EOF-anchored)', () => {
    const filler = '<P CLASS=x>Lorem &amp; IPSUM</P>\n'.repeat(40000)
    const layer = page(`${filler}&lt;script&gt;evil()&lt;/script&gt;${filler}`)
    const split = b(filler).length + 17
    const m = matcherFor(sigs)
    for (const chunk of [split, 1 << 20, 4099]) assert.deepEqual(match(m, layer, { type: 'html', chunk }), ['H3'], `chunk ${chunk}`)
    const tail = normaliseHtml(page(`&lt;script&gt;evil()&lt;/script&gt;${filler}`)).nocomment.length - '<html><body>'.length
    const e = matcherFor({ 'e.ndb': `E3:3:EOF-${tail}:${h('<script>evil()</script>')}\nE3.off:3:EOF-${tail + 1}:${h('<script>evil()</script>')}\n` })
    assert.deepEqual(match(e, layer, { type: 'html', chunk: split }), ['E3'])
  })

  it('normalises pages up to MaxHTMLNormalize (40 MB), and their text form up to MaxHTMLNoTags (8 MB)', () => {
    const m = matcherFor(sigs)
    const body = (size: number, sig: string): Buffer => {
      const p = Buffer.alloc(size, 0x61)
      b('<html>').copy(p, 0)
      b(sig).copy(p, 1000)
      return p
    }
    assert.deepEqual(match(m, body(maxHtmlNormaliseBytes, ' &lt;script&gt;evil()&lt;/script&gt; '), { type: 'html', chunk: 1 << 20 }), ['H3'])
    assert.deepEqual(match(m, body(maxHtmlNormaliseBytes + 1, ' &lt;script&gt;evil()&lt;/script&gt; '), { type: 'html', chunk: 1 << 20 }), [])
    assert.deepEqual(match(m, body(maxHtmlNoTagsBytes, ' <b>Alpha</b> Bravo '), { type: 'html', chunk: 1 << 20 }), ['T3'])
    assert.deepEqual(match(m, body(maxHtmlNoTagsBytes + 1, ' <b>Alpha</b> Bravo '), { type: 'html', chunk: 1 << 20 }), [])
  })
})
