/// Generated HTML pages for the HTML normaliser's micro-bench (bench/htmlnorm.ts) and its
/// differential test: four kinds that stress different states of the normaliser (text runs, tags and
/// attributes, script and style bodies, character references), plus a mixed page, each from a fixed
/// seed so every run measures the same bytes.

export type PageKind = 'text' | 'tags' | 'script' | 'entity' | 'mixed'
export const pageKinds: readonly PageKind[] = ['text', 'tags', 'script', 'entity', 'mixed']

const words = ['the', 'Scan', 'proxy', 'gateway', 'Content', 'signature', 'report', 'network', 'data', 'policy',
  'server', 'request', 'object', 'header', 'value', 'index', 'a', 'of', 'and', 'to', 'in', 'is', 'for', 'with',
  'Security', 'update', 'download', 'account', 'verify', 'login', 'click', 'here', 'More', 'information']
const entities = ['&amp;', '&lt;', '&gt;', '&nbsp;', '&quot;', '&copy;', '&eacute;', '&#169;', '&#x20AC;', '&#39;', '&mdash;', '&hellip;', '&#8217;', '&bogus;', '&AMP;']
const jsLines = [
  'function check(a, b) {', "  if (a < b && b > 0) { return 'low' + a; }", '  var s = "String value";', '  for (var i = 0; i < n; i++) {',
  '    total += items[i].price * 2;', '  }', '  // a comment line', '  document.getElementById("box").innerHTML = x;', '}',
  "  window.location = 'https://example.com/path?q=' + encodeURIComponent(q);", '  return x === null ? undefined : x;',
]
const cssLines = ['body { Color : #333; Margin: 0 auto; }', '.nav > li a:hover { text-decoration: underline }', '  #main { width: 960px; }']

/// A page of `size` bytes (cut there, so the last construct may be open, as a chunk of a real page).
export function makePage (kind: PageKind, size: number, seed = 0x9e3779b9): Buffer {
  let x = seed >>> 0 || 1
  const next = (): number => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return x >>> 0 }
  const pick = <T>(list: readonly T[]): T => list[next() % list.length]!
  const sentence = (n: number): string => {
    const out: string[] = []
    for (let i = 0; i < n; i++) out.push(pick(words))
    return out.join(next() % 9 === 0 ? '  ' : ' ') + (next() % 3 === 0 ? '.\n' : '. ')
  }
  const parts: string[] = ['<!DOCTYPE html>\n<html>\n<head><title>Generated page</title></head>\n<body>\n']
  const length = { now: parts[0]!.length }
  const add = (s: string): void => { parts.push(s); length.now += s.length }
  for (let round = 0; length.now < size; round++) {
    const k = kind === 'mixed' ? (['text', 'tags', 'script', 'entity'] as const)[round % 4]! : kind
    if (k === 'text') {
      add(`<p>${sentence(20 + next() % 60)}${next() % 4 === 0 ? `<b>${pick(words)}</b> ` : ''}${next() % 5 === 0 ? `<a href="http://www.example.com/${pick(words)}">${pick(words)}</a> ` : ''}${sentence(10 + next() % 30)}</p>\n`)
    } else if (k === 'tags') {
      const n = next() % 1000
      add(`<div class="row item-${n}" id="n${n}"><span style="color:red; font-weight:bold">${pick(words)}</span>` +
        `<a href="/path/${pick(words)}?id=${n}&amp;x=1" title='${pick(words)} ${pick(words)}'>${pick(words)}</a>` +
        `<img src="/img/${pick(words)}.PNG" alt="${pick(words)}" width=${n} height=20>` +
        `<table><tr><td align=left>${n}</td><td VALIGN="top">${pick(words)}</td></tr></table></div>\n`)
    } else if (k === 'script') {
      const lines: string[] = []
      for (let i = 0, n = 8 + next() % 24; i < n; i++) lines.push(pick(jsLines))
      // Style blocks in the script kind alone, as before Scanwall stopped following libclamav's stop
      // after a style block (htmlnorm.ts): the mixed page stays the bytes earlier measurements used.
      add(kind === 'script' && next() % 4 === 0
        ? `<style type="text/css">\n${cssLines.join('\n')}\n</style>\n`
        : `<script type="text/javascript">\n${lines.join('\n')}\n</script>\n<p>${sentence(8)}</p>\n`)
    } else {
      const out: string[] = []
      for (let i = 0, n = 20 + next() % 40; i < n; i++) out.push(next() % 3 === 0 ? pick(entities) : pick(words))
      add(`<p>${out.join(' ')}</p>\n`)
    }
  }
  add('</body>\n</html>\n')
  return Buffer.from(parts.join(''), 'latin1').subarray(0, size)
}

/// A page where libclamav 1.4.6 stops normalising (its "style chunk size underflow"): the whitespace
/// after a `</style>` is byte 8190 - `shift` of its first 8 KiB read, so the end tag is processed
/// less than 8 bytes into the next read (shift -1 to 7 do that); `marker` comes after it.
export function styleStopPage (shift: number, marker: string): string {
  const head = '<html><body><p>'
  const style = '<style>b{c:d}</style>'
  const fill = 8190 - shift - head.length - style.length
  return `${head}${'word '.repeat(Math.ceil(fill / 5)).slice(0, fill - 1)}x${style} \n<p>${marker}</p></body></html>\n`
}
