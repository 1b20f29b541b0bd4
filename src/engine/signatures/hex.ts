/// ClamAV body-signature hex syntax → a small AST the matcher compiles.
/// A pattern is a list of fixed-length parts joined by gaps ({n-m}, *, [n-m]); each part is a list
/// of positions: an exact byte, a nibble mask (`??`, `a?`, `?a`), a one-byte class (`(aa|bb)`,
/// `!(aa|bb)`, case folding), or a multi-byte alternative of equal-length strings.
/// `(B)` (word boundary), `(L)` (line boundary) and `(W)` (non-alphanumeric) anchors are kept
/// beside the parts as edge checks (`left`/`right`): ClamAV 1.4.6 honours them at either end of a
/// pattern (a leading `(W)` never matches there, so it is reported as unsupported, as are anchors
/// between parts); matcher/refmatch.ts checks them.
/// Syntax reference: https://docs.clamav.net/manual/Signatures/BodySignatureFormat.html

export type Elem =
  | { readonly k: 'byte', readonly v: number }
  | { readonly k: 'mask', readonly mask: number, readonly v: number }
  | { readonly k: 'set', readonly bytes: readonly number[] } // matches any byte in `bytes`
  | { readonly k: 'alt', readonly strs: readonly (readonly number[])[], readonly neg: boolean, readonly fold: boolean }

export interface Gap { readonly min: number, readonly max: number } // max -1: unbounded (`*`, `{n-}`)

export type Edge = 'B' | 'L' | 'W'

export interface Pattern {
  readonly parts: readonly (readonly Elem[])[]
  /// gaps[i] separates parts[i] and parts[i + 1].
  readonly gaps: readonly Gap[]
  /// Anchors before the first and after the last byte.
  readonly left?: Edge
  readonly right?: Edge
}

export interface Modifiers { readonly nocase: boolean, readonly wide: boolean }

const hexDigit = (c: string): number => {
  const n = parseInt(c, 16)
  return c.length === 1 && !Number.isNaN(n) ? n : -1
}

/// Width of an element in bytes.
export function elemLength (e: Elem): number {
  return e.k === 'alt' ? (e.strs[0]?.length ?? 0) : 1
}

/// Parses a hex signature; returns the reason when malformed.
export function parseHex (hex: string, mods: Modifiers = { nocase: false, wide: false }): Pattern | string {
  const parts: Elem[][] = []
  const gaps: Gap[] = []
  let part: Elem[] = []
  let pendingGap: { min: number, max: number } | undefined
  let left: Edge | undefined
  let right: Edge | undefined
  const addGap = (min: number, max: number): string | undefined => {
    if (part.length === 0 && parts.length === 0) return 'pattern starts with a gap'
    if (part.length > 0) { parts.push(part); part = [] }
    pendingGap = pendingGap === undefined ? { min, max } : { min: pendingGap.min + min, max: pendingGap.max < 0 || max < 0 ? -1 : pendingGap.max + max }
    return undefined
  }
  const addElem = (e: Elem): void => {
    if (pendingGap !== undefined) { gaps.push(pendingGap); pendingGap = undefined }
    part.push(e)
  }
  let i = 0
  while (i < hex.length) {
    const c = hex[i] ?? ''
    if (c === '*') {
      const err = addGap(0, -1)
      if (err !== undefined) return err
      i++
    } else if (c === '{' || c === '[') {
      const close = hex.indexOf(c === '{' ? '}' : ']', i)
      if (close < 0) return `unclosed '${c}' at ${i}`
      const body = hex.slice(i + 1, close)
      const m = /^(\d*)(-?)(\d*)$/.exec(body)
      if (m === null || (m[1] === '' && m[3] === '')) return `bad gap '${c}${body}' at ${i}`
      const lo = m[1] === '' ? 0 : Number(m[1])
      const hi = m[2] === '' ? lo : m[3] === '' ? -1 : Number(m[3])
      if (c === '[' && (m[1] === '' || m[3] === '' || m[2] === '')) return `bad range '[${body}]' at ${i}`
      if (hi >= 0 && hi < lo) return `gap '${body}' has max < min`
      i = close + 1
      // A short fixed gap inside the pattern is just wildcards: keeping it in the part gives the
      // part more anchor choices and saves a chain step.
      if (c === '{' && hi === lo && lo <= 128 && part.length > 0 && pendingGap === undefined && i < hex.length) {
        for (let n = 0; n < lo; n++) part.push({ k: 'mask', mask: 0, v: 0 })
        continue
      }
      const err = addGap(lo, hi)
      if (err !== undefined) return err
    } else if (c === '(' || (c === '!' && hex[i + 1] === '(')) {
      const neg = c === '!'
      const open = neg ? i + 1 : i
      const close = hex.indexOf(')', open)
      if (close < 0) return `unclosed '(' at ${i}`
      const body = hex.slice(open + 1, close)
      if (/^[BLW]$/.test(body) && !neg) {
        const edge = body as Edge
        if (part.length === 0 && parts.length === 0 && left === undefined) {
          if (edge === 'W') return 'unsupported:(W) anchor at the start of a pattern'
          left = edge
        } else if (close + 1 === hex.length && pendingGap === undefined) {
          right = edge
        } else {
          return `unsupported:(${body}) anchor inside a pattern`
        }
        i = close + 1
        continue
      }
      const strs: number[][] = []
      for (const alt of body.split('|')) {
        if (alt.length === 0 || alt.length % 2 !== 0) return `bad alternative '${alt}' at ${i}`
        const bytes: number[] = []
        for (let j = 0; j < alt.length; j += 2) {
          const hi = hexDigit(alt[j] ?? ''); const lo = hexDigit(alt[j + 1] ?? '')
          if (hi < 0 || lo < 0) return alt.includes('?') ? `unsupported:wildcard inside alternative '${alt}'` : `bad alternative '${alt}' at ${i}`
          bytes.push(hi * 16 + lo)
        }
        strs.push(bytes)
      }
      if (strs.length < 1 || (!neg && strs.length < 2)) return `alternative '(${body})' needs two choices`
      const width = strs[0]?.length ?? 0
      if (strs.some(s => s.length !== width)) return `unsupported:alternatives of different lengths '(${body})'`
      if (width === 1) {
        const chosen = new Set(strs.map(s => s[0] ?? 0))
        const bytes: number[] = []
        for (let b = 0; b < 256; b++) if (chosen.has(b) !== neg) bytes.push(b)
        addElem({ k: 'set', bytes })
      } else {
        addElem({ k: 'alt', strs, neg, fold: false })
      }
      i = close + 1
    } else {
      const a = hex[i] ?? ''; const b = hex[i + 1] ?? ''
      const hi = hexDigit(a); const lo = hexDigit(b)
      if (a === '?' && b === '?') addElem({ k: 'mask', mask: 0, v: 0 })
      else if (hi >= 0 && b === '?') addElem({ k: 'mask', mask: 0xf0, v: hi << 4 })
      else if (a === '?' && lo >= 0) addElem({ k: 'mask', mask: 0x0f, v: lo })
      else if (hi >= 0 && lo >= 0) addElem({ k: 'byte', v: hi * 16 + lo })
      else return `bad hex '${a}${b}' at ${i}`
      i += 2
    }
  }
  if (pendingGap !== undefined) return 'pattern ends with a gap'
  if (part.length > 0) parts.push(part)
  if (parts.length === 0) return 'empty pattern'
  let out: Pattern = { parts, gaps, ...(left === undefined ? {} : { left }), ...(right === undefined ? {} : { right }) }
  if (mods.nocase) out = foldCase(out)
  if (mods.wide) out = widen(out)
  return out
}

const isAlpha = (b: number): boolean => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
const lower = (b: number): number => (b >= 0x41 && b <= 0x5a ? b | 0x20 : b)

/// `::i`: letters match in either case.
function foldCase (p: Pattern): Pattern {
  const fold = (e: Elem): Elem => {
    if (e.k === 'byte' && isAlpha(e.v)) return { k: 'set', bytes: [lower(e.v) & 0xdf, lower(e.v)] }
    if (e.k === 'set') return { k: 'set', bytes: [...new Set(e.bytes.flatMap(b => isAlpha(b) ? [lower(b) & 0xdf, lower(b)] : [b]))].sort((x, y) => x - y) }
    if (e.k === 'alt') return { ...e, strs: e.strs.map(s => s.map(lower)), fold: true }
    return e
  }
  return { ...p, parts: p.parts.map(part => part.map(fold)) }
}

/// `::w`: UTF-16LE, every byte followed by a zero byte (gaps double, as ClamAV does).
function widen (p: Pattern): Pattern {
  const zero: Elem = { k: 'byte', v: 0 }
  const wide = (e: Elem): Elem[] => e.k === 'alt'
    ? [{ ...e, strs: e.strs.map(s => s.flatMap(b => [b, 0])) }]
    : [e, zero]
  return {
    ...p,
    parts: p.parts.map(part => part.flatMap(wide)),
    gaps: p.gaps.map(g => ({ min: g.min * 2, max: g.max < 0 ? -1 : g.max * 2 })),
  }
}
