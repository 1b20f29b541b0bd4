/// HTML pages with scripts for the JavaScript-normaliser tests (matcher/jsnorm.ts): hand-written
/// cases for each rule of libclamav's normaliser (renaming by scope, member names, string folding,
/// escapes, unescape/eval/dF/packer decoding, numbers, comments, broken scripts, reads split inside
/// a script), seeded random token soups, and scripts encoded with Microsoft's Script Encoder format
/// (JScript.Encode / VBScript.Encode), written here by inverting the decoder's tables.
import { decodeTable, encodedLength, order } from '../../src/engine/matcher/jscript-decode.js'

/// A deterministic generator (mulberry32).
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const page = (body: string): string => `<html><body>\n${body}\n</body></html>\n`
const script = (js: string): string => page(`<script type="text/javascript">\n${js}\n</script>`)

/// Dean Edwards' packer output for `text` (words replaced by base-`radix` indexes).
function packed (text: string, radix: number): string {
  const words = [...new Set(text.match(/\w+/g) ?? [])]
  const digits = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
  const inRadix = (n: number): string => n < radix ? digits[n]! : inRadix(Math.floor(n / radix)) + digits[n % radix]!
  const body = text.replace(/\w+/g, w => inRadix(words.indexOf(w)))
  return `eval(function(p,a,c,k,e,d){e=function(c){return c.toString(36)};if(!''.replace(/^/,String)){while(c--){d[c.toString(a)]=k[c]||c.toString(a)}k=[function(e){return d[e]}];e=function(){return'\\\\w+'};c=1};while(c--){if(k[c]){p=p.replace(new RegExp('\\\\b'+e(c)+'\\\\b','g'),k[c])}}return p}('${body.replace(/'/g, "\\'")}',${radix},${words.length},'${words.join('|')}'.split('|'),0,{}))`
}

/// scriptasylum's dF encoding of `text` with shift s.
function dfEncoded (text: string, s: number): string {
  const shifted = Array.from(text, ch => String.fromCharCode(ch.charCodeAt(0) + s)).join('')
  return `dF('${escape(shifted).replace(/'/g, '%27')}${s}')`
}

export const handWritten: Array<[string, string]> = [
  ['vars and functions renamed by scope', script('var Alpha = 1, beta = [1,2], gamma;\nfunction Outer(x, y) { var inner = x + y; return inner * Alpha; }\nOuter(3, 4); gamma = beta;')],
  ['use before declaration, redeclaration', script('total = 5; var total; var total = 6; function f() { return total; }')],
  ['member names kept, keywords', script('document.write(window.location.href); var o = new Object(); o.var = this; if (typeof o === "object") { delete o.x } else { throw null }')],
  ['string folding and escapes', script('var s = "Hel" + \'lo\' + " Wor" + "ld\\x21"; var t = "tab\\there\\nline\\u0041\\u00e9\\u4e2d\\0end"; var q = \'it\\\'s "q"\';')],
  ['unescape and eval', script('var a = unescape("%64%6f%63%75%6d%65%6e%74%2e%77%72%69%74%65%28%22%68%69%22%29"); eval("var hidden = 1; alert(hidden)"); eval(unescape("%61%6c%65%72%74%28%31%29"));')],
  ['nested eval and folding', script('eval("eval(\'x\' + \'=1;\' + \'alert(x)\')");')],
  ['dF encoder', script(`${dfEncoded('document.write("<iframe src=http://evil.test/>")', 3)};`)],
  ['packer', script(packed('var payload = document.createElement("iframe"); payload.src = "http://evil.test/x"; document.body.appendChild(payload);', 36))],
  ['packer, radix 62', script(packed('function Hidden(a) { return a + Hidden.length } Hidden(Hidden)', 62))],
  ['numbers', script('var n = [0, 7, 42, 3.5, 1.5e3, 2e10, 1.25e-7, 0.0001, 123456789, 99999999999, 1234567.5, 0x1F, 1., .5, 010];')],
  ['comments and operators', script('/* block\n comment */ a = b // line comment\n+ c; x >>>= 2; y = a !== b && c <= d || !e; z = a ? b : c; i++; --j; k %= 3; m ^= n | o & p;')],
  ['regex literal and odd bytes', script('var r = /ab+c/gi; var u = "caf\u00e9"; var \u00e9t\u00e9 = 1; $x_1 = @at #hash ` back\\slash;')],
  ['unterminated string and parentheses', script('alert(foo("abc, (1 + 2')],
  ['unbalanced braces', script('function a() { if (x) { y() } } } function b() { { var z; z()')],
  ['several scripts, empty and uppercase', `${page('<SCRIPT LANGUAGE="JavaScript">var First = 1;</SCRIPT><p>text</p><script src="x.js"></script><script>\nvar Second = First;</script >')}`],
  ['script without end tag', '<html><script>var open = "never closed"; function f(a) { return a }'],
  ['CRLF, tabs and NULs', script('var\ta\r\n=\r\n"x\r\ny";\u0000 b\u0000c = 1;')],
  ['script inside a comment, script in attributes', page('<!-- <script>var hidden = 1;</script> --><a onclick="var click = 1">x</a><script>var shown = 2;</script>')],
  ['</script> inside a string', script('var s = "</script><script>var t = 1;";')],
  ['function expressions and the packer signature elsewhere', script('var f = function(p, a, c, k, e, r) { return p }; f(1,2,3,4,5,6); x = function () { return function inner() { var deep; } };')],
  ['identifier escapes', script('var \\u0061bc = 1; a\\bc = 2; \\x = 3;')],
  ['long string over a read boundary', script(`var big = "${'A'.repeat(9000)} tail"; var after = big;`)],
  ['long script over read boundaries', script(Array.from({ length: 900 }, (_, i) => `var v${i} = v${Math.max(0, i - 1)} + ${i};`).join(' '))],
  ['long unbroken token over a read boundary', script(`x = ${'y'.repeat(8500)}; var z = "q";`)]
]

const atoms = ['var', 'function', 'if', 'else', 'return', 'new', 'this', 'eval', 'unescape', 'dF', 'document', 'write', 'x', 'y', 'Zed', '$a', '_b',
  '(', ')', '{', '}', '[', ']', ',', ';', '.', '+', '-', '*', '/', '=', '==', '===', '!', '<', '>', '&&', '||', '?', ':', '"str"', "'s2'",
  '"%41%u0042"', '"a\\x41\\u0042"', '1', '2.5', '1e3', '007', '/* c */', '// l\n', '\n', ' ', '\t', 'p', 'a', 'c', 'k', 'e', 'd', '"|"', '\\u0041', '"\\\\"']

/// Random token soups (seeded): broken scripts as the normaliser meets them.
export function randomScripts (count: number, seed: number): Array<[string, string]> {
  const rnd = prng(seed)
  const out: Array<[string, string]> = []
  for (let n = 0; n < count; n++) {
    const len = 20 + Math.floor(rnd() * 200)
    let js = ''
    for (let i = 0; i < len; i++) {
      js += atoms[Math.floor(rnd() * atoms.length)]!
      if (rnd() < 0.6) js += ' '
    }
    out.push([`random ${n}`, script(js)])
  }
  return out
}

/// The Script Encoder's tables, by inverting the decoder's: per table, plain byte → encoded byte.
function encodeTables (): Array<Map<number, number>> {
  return decodeTable.map(table => {
    const inverse = new Map<number, number>()
    for (let c = 0x09; c < 0x80; c++) {
      if ((c === 0x09 || c >= 0x20) && table[c] !== 0xff && !inverse.has(table[c]!)) inverse.set(table[c]!, c)
    }
    return inverse
  })
}

/// Encodes `text` as the Script Encoder does: `#@~^` length `==` data checksum `==^#~@`.
export function screncEncode (text: string): string {
  const tables = encodeTables()
  const special: Record<string, string> = { '<': '@!', '\r': '@#', '@': '@$', '\n': '@&', '>': '@*' }
  let data = ''
  let sum = 0
  Array.from(text).forEach((ch, pos) => {
    sum += ch.charCodeAt(0)
    if (special[ch] !== undefined) { data += special[ch]; return }
    const enc = tables[order[pos % 64]!]!.get(ch.charCodeAt(0))
    if (enc === undefined) throw new Error(`cannot encode ${JSON.stringify(ch)}`)
    data += String.fromCharCode(enc)
  })
  const b64 = (n: number): string => Buffer.from([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]).toString('base64')
  const header = b64(data.length)
  if (encodedLength(Buffer.from(header, 'latin1'), 0) !== data.length) throw new Error('length header does not round-trip')
  return `#@~^${header}${data}${b64(sum)}^#~@`
}

/// Pages with encoded scripts: JScript.Encode and VBScript.Encode, short, spanning reads, with text
/// before the marker, and a page that only claims to be encoded.
export function encodedPages (): Array<[string, string]> {
  const js = 'var Secret = "payload"; document.write("<b>" + Secret + "</b>");\r\nfunction Run(a) { return a @ 2 }'
  const long = Array.from({ length: 400 }, (_, i) => `var e${i} = "${'x'.repeat(i % 17)}";`).join('\n')
  return [
    ['JScript.Encode', page(`<script language="JScript.Encode">${screncEncode(js)}</script><p>after</p>`)],
    ['VBScript.Encode', page(`<SCRIPT LANGUAGE='VBScript.Encode' type=x>${screncEncode('MsgBox "Hello" : Dim A : A = 1 > 0')}</SCRIPT>`)],
    ['encoded, text before the marker', page(`<script language="jscript.encode">\n  <!--\n//${screncEncode(js)}\n//--></script>`)],
    ['encoded over several reads', page(`<script language="JScript.Encode">${screncEncode(long)}</script><i>tail</i>`)],
    ['claims to be encoded', page('<script language="JScript.Encode">var plain = 1;</script><p>x</p>')],
    ...aspPages()
  ]
}

/// Encoded ASP pages: `<%@ language=…Encode %>` and `<% encoded %>` blocks (libclamav decodes the
/// first per read after the directive), a block without the directive (not decoded), and a long
/// one over several reads.
export function aspPages (): Array<[string, string]> {
  const js = 'var Hidden = "AspPayload"; document.write("<i>" + Hidden + "</i>");'
  const long = Array.from({ length: 500 }, (_, i) => `var a${i} = "${'y'.repeat(i % 13)}";`).join('\n')
  return [
    ['ASP JScript.Encode', `<%@ language="JScript.Encode" %>\n<html><body>\n<%${screncEncode(js)}%>\n<p>after</p></body></html>\n`],
    ['ASP VBScript.Encode', `<%@ LANGUAGE = VBScript.Encode %>\n<html><body>\n<%${screncEncode('Response.Write "VbAspPayload"')}%>\n</body></html>\n`],
    ['ASP encoded block without the directive', `<html><body>\n<%${screncEncode(js)}%>\n</body></html>\n`],
    ['ASP encoded over several reads', `<%@ language="JScript.Encode" %>\n<html><body>\n<p>${'lorem ipsum '.repeat(800)}</p><%${screncEncode(long)}%><%${screncEncode(js)}%>\n</body></html>\n`]
  ]
}

/// Script-heavy pages of about `size` bytes for the JavaScript normaliser's micro-bench
/// (bench/jsnorm.ts) and its speed-independent checks: `minified` (a minified library: short names,
/// dense punctuation, few spaces), `packed` (Dean Edwards' packer output, long packed strings and a
/// word list), `obfuscated` (escaped strings folded with +, unescape/eval calls, hex escapes).
export type ScriptKind = 'minified' | 'packed' | 'obfuscated'
export const scriptKinds: readonly ScriptKind[] = ['minified', 'packed', 'obfuscated']

export function scriptHeavyPage (kind: ScriptKind, size: number, seed = 0x5eed): string {
  const rnd = prng(seed)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!
  const names = ['a', 'b', 'c', 'e', 'n', 'r', 't', 'i', 'o', 's', 'fn', 'el', 'Ab', 'xY', '$', '_q', 'jQuery', 'length', 'prototype']
  const members = ['push', 'call', 'apply', 'each', 'extend', 'nodeType', 'style', 'getAttribute', 'innerHTML', 'toLowerCase']
  const statement = (): string => {
    const a = pick(names)
    const b = pick(names)
    switch (Math.floor(rnd() * 8)) {
      case 0: return `var ${a}=${b}.${pick(members)}(${pick(names)},${Math.floor(rnd() * 1000)})`
      case 1: return `function ${a}(${b},${pick(names)}){return ${b}&&${b}.${pick(members)}?${b}:null}`
      case 2: return `for(${a}=0;${a}<${b}.length;${a}++)${b}[${a}]=${pick(names)}[${a}]*2.5`
      case 3: return `if(${a}===${b}){${a}.${pick(members)}="${pick(members)}-${Math.floor(rnd() * 99)}"}else{${b}=!${a}}`
      case 4: return `${a}.${pick(members)}=function(${b}){var ${pick(names)}=this;return ${b}>>>1|0}`
      case 5: return `${a}=[${b},"str",'q',${rnd().toFixed(3)},{k:${b}}]`
      case 6: return `/* ${pick(members)} */${a}+=${b}/*x*/-1 // c`
      default: return `${a}=${b}?${pick(names)}:${pick(names)}`
    }
  }
  const parts: string[] = ['<html><head><title>scripts</title></head><body>\n']
  let length = parts[0]!.length
  while (length < size) {
    let body: string
    if (kind === 'minified') {
      const s: string[] = []
      for (let i = 0, n = 200 + Math.floor(rnd() * 300); i < n; i++) s.push(statement())
      body = `(function(${pick(names)},${pick(names)}){${s.join(';')}})(window,document);`
    } else if (kind === 'packed') {
      const s: string[] = []
      for (let i = 0, n = 30 + Math.floor(rnd() * 60); i < n; i++) s.push(statement())
      body = packed(s.join(';'), 62)
    } else {
      const s: string[] = []
      for (let i = 0, n = 40 + Math.floor(rnd() * 80); i < n; i++) {
        const text = statement()
        const hex = Array.from(text, ch => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`).join('')
        s.push(rnd() < 0.5 ? `var ${pick(names)}="${hex.slice(0, hex.length >> 1)}"+"${hex.slice(hex.length >> 1)}"` : `eval(unescape("${escape(text)}"))`)
      }
      body = s.join(';\n')
    }
    const block = `<script type="text/javascript">\n${body}\n</script>\n<p>text between scripts</p>\n`
    parts.push(block)
    length += block.length
  }
  parts.push('</body></html>\n')
  return parts.join('')
}
