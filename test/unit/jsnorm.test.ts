/// The JavaScript normaliser (matcher/jsnorm.ts, js-lexer.ts, js-decoders.ts) and the Script
/// Encoder decoding (jscript-decode.ts) without a peer: pages whose `javascript` form clamscan 1.4.6
/// wrote (its --leave-temps files, kept here as expectations; test/integration/jsnorm-clamscan.test.ts
/// compares generated pages live), the same forms whatever the chunk split, encoded scripts decoded
/// to their text, and the bounds (a script of more tokens than maxTokens, eval nested past 16).
import assert from 'node:assert/strict'
import { normalisePage } from '../../src/engine/matcher/html-pass.js'
import { HtmlNormaliser } from '../../src/engine/matcher/htmlnorm.js'
import { JsNormaliser, maxTokens } from '../../src/engine/matcher/jsnorm.js'
import { screncEncode, handWritten, encodedPages } from '../helpers/js-pages.js'

const str = (u: Uint8Array): string => Buffer.from(u).toString('latin1')
const js = (page: string): string => str(normalisePage(Buffer.from(page, 'latin1')).javascript)

/// [page, javascript], as clamscan 1.4.6 --leave-temps wrote them.
const cases: Array<[string, string]> = [
  ['<html><script>var Alpha = 1; function Outer(x) { var inner = x; return inner * Alpha; } Outer(2);</script></html>',
    '<script>var n000=1;function n001(n002){var n003=n002;return n003*n000;}outer(2);</script>'],
  ['<html><script>total = 5; var total; document.Write(window.location); o.var = "A" + \'b\' + "\\x43\\u0044";</script></html>',
    '<script>n000=5;var n000;document.write(window.location);o.var="abcd";</script>'],
  ['<html><script>eval(unescape("%61%6c%65%72%74%28%31%29")); n = [42, 3.5, 1.5e3, 1.25e-7, 99999999999];</script></html>',
    '<script>alert(1)n=[42,3.5,1500,1.25e-07,1215752191];</script>'],
  ['<html><SCRIPT>a("open, (1</SCRIPT ><p>x</p><script>/* c */ b // d\n+c</script>',
    '<script>a("open, (1</script ")</script>\n<script>b d+c</script>']
]

/// The javascript form of a page pushed in the given chunk sizes.
function chunked (page: Buffer, sizes: () => number): string {
  const js = new JsNormaliser()
  const n = new HtmlNormaliser(js)
  const parts: string[] = []
  for (let at = 0; at < page.length;) {
    const len = Math.min(page.length - at, sizes())
    n.push(page.subarray(at, at + len))
    parts.push(str(js.take()))
    at += len
  }
  n.end()
  parts.push(str(js.take()))
  return parts.join('')
}

describe('engine: JavaScript normalisation (ClamAV\'s javascript form)', () => {
  for (const [page, expected] of cases) {
    it(`writes clamscan's javascript form: ${page.slice(14, 60)}…`, () => {
      assert.equal(js(page), expected)
    })
  }

  it('writes the same form whatever the chunk split', () => {
    let seed = 7
    const rnd = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2 ** 32 }
    // ASP pages have no javascript form (libclamav decodes their <% %> blocks into the HTML forms
    // only); jsnorm-clamscan.test.ts compares those forms with clamscan's.
    const scripted = encodedPages().filter(([label]) => !label.startsWith('ASP '))
    for (const [label, text] of [...handWritten, ...scripted]) {
      const page = Buffer.from(text, 'latin1')
      const whole = str(normalisePage(page).javascript)
      assert.ok(whole.startsWith('<script>'), label)
      assert.equal(chunked(page, () => 1 + Math.floor(rnd() * 700)), whole, `${label}: random chunks`)
      if (page.length < 3000) assert.equal(chunked(page, () => 1), whole, `${label}: one byte at a time`)
    }
  })

  it('decodes JScript.Encode to the script it encodes, and writes the tag with the plain language', () => {
    const plain = 'var Secret = "x<y>z@w";\r\ndocument.write(Secret);'
    const page = `<html><script language="JScript.Encode">${screncEncode(plain)}</script></html>`
    const forms = normalisePage(Buffer.from(page, 'latin1'))
    assert.match(str(forms.javascript), /var n000="x<y>z@w";document\.write\(n000\);/)
    assert.match(str(forms.nocomment), /<script language="jscript\.encode"><script language="javascript">/)
    assert.doesNotMatch(str(forms.nocomment), /#@~\^/)
  })

  it('keeps a script of more than maxTokens tokens to its end, in bounded pieces', () => {
    const count = maxTokens + 50_000
    const page = Buffer.from(`<html><script>${'a;'.repeat(count)}var last = 1;</script></html>`, 'latin1')
    const out = js(page.toString('latin1'))
    assert.equal(out.length, '<script>'.length + 2 * count + 'var n000=1;'.length + '</script>'.length)
    assert.ok(out.endsWith('var n000=1;</script>'))
  })

  it('stops decoding eval nested past 16 levels, as libclamav does, and stays linear', () => {
    let code = 'alert(1)'
    for (let i = 0; i < 30; i++) code = `eval(unescape("${escape(code)}"))`
    const out = js(`<html><script>${code}</script></html>`)
    assert.ok(out.startsWith('<script>') && out.endsWith('</script>'))
    assert.ok(out.length < 200_000)
  })

  it('survives broken input: every byte value, unterminated constructs, lone encoder markers', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
    for (const body of [all.toString('latin1'), '"\\', "'\\u12", 'function(p,a,c,k,e,r){}(', 'eval(', 'dF("', '/*', '#@~^', '#@~^AAAAAA==', '#@~^//////==@']) {
      for (const language of ['javascript', 'JScript.Encode', 'VBScript.Encode']) {
        const out = js(`<html><script language="${language}">${body}</script>${body}<script>${body}`)
        assert.ok(out.startsWith('<script>'), `${language}: ${JSON.stringify(body)}`)
      }
    }
  })
})
