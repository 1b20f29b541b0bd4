/// Differential test of the fast HTML normaliser (matcher/htmlnorm.ts) against the reference per-byte
/// state machine it replaced (test/helpers/htmlnorm-reference.ts, the version checked byte for byte
/// against clamscan --leave-temps): random bytes, markup soup built from the tokens that move the
/// state machine (tags, attributes, quotes, references, comments, script/style, data: URIs, bytes
/// above 0x7f, CR, NUL, whitespace runs that straddle libclamav's 8 KiB reads) and generated pages,
/// each fed in random chunk splits; both forms must be identical byte for byte, with the WebAssembly
/// text kernel and without it.
import assert from 'node:assert/strict'
import { HtmlNormaliser } from '../../src/engine/matcher/htmlnorm.js'
import { ReferenceHtmlNormaliser } from '../helpers/htmlnorm-reference.js'
import { makePage, pageKinds } from '../helpers/html-pages.js'

interface Normaliser { push: (chunk: Uint8Array) => { nocomment: Uint8Array, notags: Uint8Array }, end: () => { nocomment: Uint8Array, notags: Uint8Array } }

/// Seeded xorshift32: every failure is reproducible from its round number.
function rng (seed: number): (n: number) => number {
  let x = seed >>> 0 || 1
  return (n: number): number => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) % n }
}

/// Both forms of `page` fed in the given chunk sizes (cycled), concatenated.
function forms (n: Normaliser, page: Uint8Array, sizes: readonly number[]): [Buffer, Buffer] {
  const nc: Buffer[] = []
  const nt: Buffer[] = []
  const keep = (f: { nocomment: Uint8Array, notags: Uint8Array }): void => { nc.push(Buffer.from(f.nocomment)); nt.push(Buffer.from(f.notags)) }
  for (let at = 0, k = 0; at < page.length; k++) {
    const step = sizes[k % sizes.length]!
    keep(n.push(page.subarray(at, at + step)))
    at += step
  }
  keep(n.end())
  return [Buffer.concat(nc), Buffer.concat(nt)]
}

const tokens = ['<', '>', '</', '<!', '<!--', '-->', '=', '"', "'", '&', ';', '#', '&#', '&#x', '&amp;', '&AMP;', '&lt;', '&eacute;',
  '&#65;', '&#x42;', '&#256;', '&#x3002;', '&#99999999999999999999;', '&#xffffffffffffffffff;', '&bogus', '&nbsp', ' ', '  ', '\t', '\n', '\r', '\r\n',
  '\u0000', '\u0001', '\u007f', '\u0080', '\u00a1', '\u00a1C', '\u00c3\u00a9', '\u00e3\u0080\u0082', '\u00ef\u00bc\u008e', '\u00ef\u00b9\u0092', '\u00ff',
  'script', '<script>', '</script>', '<SCRIPT language=js>', '<style>', '</style>', '</STYLE >', '<a ', '<A HREF=', 'href=', 'src=', '<img ',
  '<img src=', 'data:', '"data:', "'data:", 'data:text/plain;base64,', ',', '%', '%4', '%41', 'Hello', 'WORLD', 'x', 'Y', '1', '/', '-', ':', '_']

function soup (next: (n: number) => number, length: number): Uint8Array {
  const parts: string[] = []
  let len = 0
  while (len < length) {
    const r = next(100)
    // Long runs without whitespace, and whitespace floods, move libclamav's read boundaries.
    const t = r < 2 ? 'w'.repeat(next(12000)) : r < 3 ? ' '.repeat(next(9000)) : r < 4 ? '\u0000'.repeat(next(300)) : r < 5 ? 'v'.repeat(next(2000)) : tokens[next(tokens.length)]!
    parts.push(t)
    len += t.length
  }
  return new Uint8Array(Buffer.from(parts.join(''), 'latin1').subarray(0, length))
}

function randomBytes (next: (n: number) => number, length: number): Uint8Array {
  const page = new Uint8Array(length)
  for (let i = 0; i < length; i++) page[i] = next(256)
  return page
}

function splits (next: (n: number) => number): number[] {
  const kind = next(4)
  const out: number[] = []
  for (let k = 0; k < 16; k++) out.push(kind === 0 ? 1 + next(8) : kind === 1 ? 1 + next(300) : kind === 2 ? 1 + next(20000) : 1 + next(70000))
  return out
}

/// The fast normaliser with its WebAssembly text kernel, and with its JS paths alone.
function same (label: string, page: Uint8Array, sizes: readonly number[]): void {
  const [refNc, refNt] = forms(new ReferenceHtmlNormaliser(), page, [page.length || 1])
  for (const kernel of [true, false]) check(`${label}${kernel ? '' : ' (JS paths)'}`, forms(new HtmlNormaliser(undefined, { kernel }), page, sizes), [refNc, refNt], sizes)
}

function check (label: string, [nc, nt]: [Buffer, Buffer], [refNc, refNt]: [Buffer, Buffer], sizes: readonly number[]): void {
  if (!nc.equals(refNc) || !nt.equals(refNt)) {
    const at = (a: Buffer, b: Buffer): number => { let i = 0; while (i < a.length && a[i] === b[i]) i++; return i }
    const which = !nc.equals(refNc) ? ['nocomment', nc, refNc] as const : ['notags', nt, refNt] as const
    const d = at(which[1], which[2])
    assert.fail(`${label} (splits ${sizes.slice(0, 4).join(',')}…): ${which[0]} differs at ${d}: ` +
      `${JSON.stringify(which[1].subarray(Math.max(0, d - 40), d + 40).toString('latin1'))} vs ${JSON.stringify(which[2].subarray(Math.max(0, d - 40), d + 40).toString('latin1'))}`)
  }
}

describe('engine: the fast HTML normaliser equals the reference', () => {
  it('on markup soup, whole and in random chunk splits', () => {
    for (let round = 0; round < 120; round++) {
      const next = rng(0x5eed0000 + round)
      const page = soup(next, 1 + next(round < 60 ? 3000 : 40000))
      same(`soup round ${round}`, page, [page.length])
      same(`soup round ${round}`, page, splits(next))
    }
  })

  it('on random bytes in random chunk splits', () => {
    for (let round = 0; round < 30; round++) {
      const next = rng(0xb17e0000 + round)
      same(`random round ${round}`, randomBytes(next, 1 + next(30000)), splits(next))
    }
  })

  it('on generated pages of every kind in random chunk splits', () => {
    for (const kind of pageKinds) {
      for (let round = 0; round < 3; round++) {
        const next = rng(0x9a9e0000 + round)
        same(`${kind} page round ${round}`, new Uint8Array(makePage(kind, 50000 + next(150000), 1 + round)), splits(next))
      }
    }
  })
})
