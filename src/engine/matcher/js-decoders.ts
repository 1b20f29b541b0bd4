/// The folders and decoders libclamav's JavaScript normaliser runs on a script's tokens before it
/// writes them (jsparse/js-norm.c run_folders and run_decoders, learnt by reading it): `unescape("…")`
/// becomes the unescaped string; `eval("…")`, scriptasylum's `dF("…")` and Dean Edwards' packer
/// (`function(p,a,c,k,e,r){…}('…',62,n,'w|o|r|d|s'.split('|'),0,{})`, named or not) are decoded and
/// the result tokenized in place of the call (dF's at the end), up to 16 nested decodings per
/// script. Their quirks are kept: the packer is recognised by its first three parameters, its
/// words are split on `|` and looked up by base-`a` numbers (32-bit wrap), dF subtracts its last
/// digit from every unescaped byte and stops at a NUL.
import { Tok, utf8Of } from './js-lexer.js'
import type { Scope } from './jsnorm.js'

export interface Token {
  type: Tok
  /// Text: the identifier, keyword, operator or string bytes (latin1); null once taken by eval.
  s: string | null
  n: number
  /// Function tokens: the scope they open, null for the marker of a function's end.
  scope: Scope | null | undefined
}

/// What the decoders need of the normaliser: its token list (swapped for a nested one while a
/// decoded text is tokenized), its current scope and nesting count, and its tokenizer.
export interface DecodeHost {
  tokens: Token[]
  current: Scope
  rec: number
  process: (buf: Uint8Array, from: number, to: number) => void
}

const isXdigit = (c: number): boolean => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66)
const hex = (c: number): number => c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57
const isAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a)
/// A latin1 string's bytes, as a plain Uint8Array (a Buffer's element reads are slower in the loops).
const bytes = (s: string): Uint8Array => { const b = Buffer.from(s, 'latin1'); return new Uint8Array(b.buffer, b.byteOffset, b.length) }
const latin1 = (b: number[]): string => {
  let s = ''
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.slice(i, i + 8192))
  return s
}

/// JavaScript's unescape() as libclamav's cli_unescape: %HH, %uHHHH as UTF-8, NUL written 0x01;
/// the input is a C string (it ends at a NUL).
export function unescape (s: string): string {
  const nul = s.indexOf('\0')
  const str = bytes(nul >= 0 ? s.slice(0, nul) : s)
  const len = str.length
  const out: number[] = []
  for (let k = 0; k < len; k++) {
    let c = str[k]!
    if (c === 0x25) {
      if (k + 5 >= len || str[k + 1] !== 0x75 || !isXdigit(str[k + 2]!) || !isXdigit(str[k + 3]!) || !isXdigit(str[k + 4]!) || !isXdigit(str[k + 5]!)) {
        if (k + 2 < len && isXdigit(str[k + 1]!) && isXdigit(str[k + 2]!)) { c = (hex(str[k + 1]!) << 4) | hex(str[k + 2]!); k += 2 }
      } else {
        utf8Of((hex(str[k + 2]!) << 12) | (hex(str[k + 3]!) << 8) | (hex(str[k + 4]!) << 4) | hex(str[k + 5]!), out)
        k += 5
        continue
      }
    }
    out.push(c === 0 ? 1 : c)
  }
  return latin1(out)
}

/// Replaces tokens[start, end) with `by`; nothing when the range is outside the list (libclamav's CL_EARG).
function replace (tokens: Token[], start: number, end: number, by: readonly Token[]): boolean {
  if (start >= tokens.length || end > tokens.length) return false
  tokens.splice(start, end - start, ...by)
  return true
}

const isCall = (t: readonly Token[], i: number, name: string): boolean =>
  i + 2 < t.length && t[i]!.type === Tok.Ident && t[i]!.s === name && t[i + 1]!.type === Tok.ParOpen

/// run_folders: unescape("…") → the string.
export function runFolders (t: Token[]): void {
  for (let i = 0; i < t.length; i++) {
    if (!isCall(t, i, 'unescape')) continue
    const arg = t[i + 2]!
    if (arg.type === Tok.Str) replace(t, i, i + 4, [{ type: Tok.Str, s: unescape(arg.s ?? ''), n: 0, scope: undefined }])
  }
}

interface Decoded { text: string, begin: number, end: number, append: boolean }

/// run_decoders: each decodable call is replaced by its decoded text's tokens.
export function runDecoders (host: DecodeHost): void {
  for (let i = 0; i < host.tokens.length; i++) {
    const t = host.tokens
    let res: Decoded | undefined
    if (t[i]!.type === Tok.Function && i + 13 < t.length) {
      let name: string | null = null
      i++
      if (t[i]!.type === Tok.Ident) { name = t[i]!.s; i++ }
      if (packerParameters(t, i)) res = packer(t, i, name)
    } else if (isCall(t, i, 'dF')) {
      res = dF(t, i + 2)
    } else if (isCall(t, i, 'eval')) {
      const arg = t[i + 2]!
      if (i + 3 < t.length && arg.type === Tok.Str && arg.s !== null && t[i + 3]!.type === Tok.ParClose) {
        res = { text: arg.s, begin: i, end: i + 4, append: false }
        arg.s = null
      }
    }
    if (res !== undefined && res.end > res.begin) {
      if (res.end < t.length && t[res.end]!.type === Tok.Semicolon) res.end++
      host.tokens = []
      if (++host.rec <= 16) {
        const text = bytes(res.text)
        host.process(text, 0, text.length)
        host.rec--
      }
      const nested = host.tokens
      host.tokens = t
      if (!res.append) replace(t, res.begin, res.end, nested)
      else { replace(t, res.begin, res.end, []); for (const n of nested) t.push(n) }
    }
    const tok = host.tokens[i]
    if (tok?.type === Tok.Function) {
      if (tok.scope !== null && tok.scope !== undefined) host.current = tok.scope
      else if (host.current.parent !== null) host.current = host.current.parent
    }
  }
}

/// "(p,a,c," — libclamav's parameter check looks at the first three names only.
function packerParameters (t: readonly Token[], i: number): boolean {
  if (t[i]?.type !== Tok.ParOpen) return false
  let k = i + 1
  for (const name of ['p', 'a', 'c']) {
    const tok = t[k]
    if (tok === undefined || tok.type !== Tok.Ident || tok.s !== name || t[k + 1]?.type !== Tok.Comma) return false
    k += 2
  }
  return true
}

/// Six arguments from t[i] on (each up to the next comma, the last up to `)`), as libclamav reads them.
function argumentsAt (t: readonly Token[], i: number): { args: number[], next: number } {
  const args: number[] = []
  for (let j = 0; j < 6 && i < t.length; j++) {
    args.push(i++)
    const stop = j !== 5 ? Tok.Comma : Tok.ParClose
    while (i < t.length && t[i]!.type !== stop) i++
    i++
  }
  return { args, next: i }
}

function packer (t: readonly Token[], start: number, name: string | null): Decoded | undefined {
  let nesting = 1
  let i = start
  for (; i < t.length; i++) {
    if (t[i]!.type !== Tok.Function) continue
    if (t[i]!.scope !== null && t[i]!.scope !== undefined) nesting++
    else nesting--
    if (nesting === 0) break
  }
  if (nesting !== 0) return undefined
  const out: number[] = []
  let first = -1
  let last = -1
  const take = (at: number): number => {
    const { args, next } = argumentsAt(t, at)
    if (args.length === 6) {
      if (first < 0) first = args[0]!
      last = args[5]!
      unpack(args.map(a => t[a]!), out)
    }
    return next
  }
  if (name !== null) {
    for (; i + 2 < t.length; i++) {
      if (t[i]!.type === Tok.Ident && t[i]!.s === name && t[i + 1]!.type === Tok.ParOpen) i = take(i + 2)
    }
  } else {
    while (i < t.length && t[i]!.type !== Tok.ParOpen) i++
    i++
    if (i >= t.length) return undefined
    take(i)
  }
  if (first < 0 || last < 0) return undefined
  let end = last + 1
  if (end + 2 < t.length && t[end]!.type === Tok.BracketOpen && t[end + 1]!.type === Tok.BracketClose && t[end + 2]!.type === Tok.ParClose) end += 3
  else if (end < t.length) end++
  return { text: latin1(out), begin: first, end, append: false }
}

/// decode_de: the packed text with each base-`a` word number replaced by its word.
function unpack (args: readonly Token[], out: number[]): void {
  const p = args[0]!.type === Tok.Int || args[0]!.type === Tok.Float || args[0]!.type === Tok.Function ? null : args[0]!.s
  const k = args[3]!.type === Tok.Str || args[3]!.type === Tok.Unnorm ? args[3]!.s : null
  if (p === null || k === null) return
  const a = args[1]!.type === Tok.Int ? args[1]!.n | 0 : -1
  const words = k.split('|')
  const src = bytes(p)
  let i = 0
  while (i < src.length) {
    while (i < src.length && !isAlnum(src[i]!)) {
      if (src[i] === 0x5c && (src[i + 1] === 0x27 || src[i + 1] === 0x22)) i++
      else out.push(src[i++]!)
    }
    if (i >= src.length) break
    let val = 0
    const o = i
    while (i < src.length && isAlnum(src[i]!)) {
      const v = src[i++]!
      const x = v >= 0x61 ? 10 + v - 0x61 : v >= 0x41 ? 36 + v - 0x41 : v - 0x30
      val = (Math.imul(val, a) + x) >>> 0
    }
    const word = val < words.length ? words[val] : undefined
    if (word === undefined || word.length === 0) for (let j = o; j < i; j++) out.push(src[j]!)
    else for (let j = 0; j < word.length; j++) out.push(word.charCodeAt(j) & 0xff)
  }
}

/// handle_df: scriptasylum's encoder, dF('…<digit>').
function dF (t: Token[], start: number): Decoded | undefined {
  const tok = t[start]!
  if (tok.type !== Tok.Str || tok.s === null || tok.s.length === 0) return undefined
  const s = tok.s
  const shift = (s.charCodeAt(s.length - 1) - 0x30) & 0xff
  tok.s = s.slice(0, -1)
  const shifted = Array.from(bytes(unescape(tok.s)), c => (c - shift) & 0xff)
  return { text: unescape(latin1(shifted)), begin: start - 2, end: start + 2, append: true }
}
