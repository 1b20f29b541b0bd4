/// The tokenizer of ClamAV's JavaScript normaliser (libclamav 1.4 jsparse/js-norm.c, learnt by
/// reading it and checked against clamscan 1.4.6's `javascript` temp files): script text arrives in
/// the pieces libclamav's HTML reader cuts (8 KiB reads ending after whitespace), and a token may
/// span pieces (an identifier, a number, a string, a comment), so the state lives in the object.
/// Its rules, quirks included: bytes above 0x7f and most control bytes outside strings are dropped;
/// a `//` comment ends at a space too (the HTML reader turned newlines into spaces); a quote
/// preceded by a backslash inside the same piece does not end a string; escapes in a string are
/// decoded piece by piece (\xHH, \uHHHH as UTF-8, a NUL byte written as 0x01); `\` in an identifier
/// is dropped unless `\u` follows (then `\` is kept and `u` eaten); numbers are decimal only.
/// Own code: acorn, esprima and the like build syntax trees and reject broken scripts; ClamAV's
/// tokenizer never fails, and its output (not a tree) is what signatures match.

export const enum Tok {
  End = 0, Ident, Unnorm, Str, Int, Float, Var, Function, Plus, ParOpen, ParClose, CurlyOpen, CurlyClose,
  BracketOpen, BracketClose, Comma, Semicolon, Dot, Other
}

const enum State { Initial, MultiComment, LineComment, Number, DQString, SQString, Identifier }
const enum C { WS, Slash, Op, DQ, SQ, Digit, Id, Punct, Nop }

/// ClamAV's character classes (outside tokens, and inside identifiers).
const cls = new Uint8Array(256).fill(C.Nop)
const idClass = new Uint8Array(256).fill(C.Nop)
for (const c of [9, 10, 11, 13, 32]) cls[c] = C.WS
for (const c of '!%&*+-:<=>?^|~') cls[c.charCodeAt(0)] = C.Op
for (const c of '[](){},.;') cls[c.charCodeAt(0)] = C.Punct
for (let c = 0x30; c <= 0x39; c++) { cls[c] = C.Digit; idClass[c] = C.Id }
for (let c = 0x41; c <= 0x5a; c++) { cls[c] = C.Id; cls[c | 0x20] = C.Id; idClass[c] = C.Id; idClass[c | 0x20] = C.Id }
cls[0x24] = C.Id; cls[0x5f] = C.Id; cls[0x5c] = C.Id
idClass[0x24] = C.Id; idClass[0x5f] = C.Id; idClass[0x5c] = C.Op
cls[0x2f] = C.Slash; cls[0x22] = C.DQ; cls[0x27] = C.SQ

const punct: Record<number, Tok> = {
  0x5b: Tok.BracketOpen,
  0x5d: Tok.BracketClose,
  0x28: Tok.ParOpen,
  0x29: Tok.ParClose,
  0x7b: Tok.CurlyOpen,
  0x7d: Tok.CurlyClose,
  0x2c: Tok.Comma,
  0x2e: Tok.Dot,
  0x3b: Tok.Semicolon
}

/// JavaScript's keywords and the future reserved words of ES3 (ClamAV's keyword table); only `var`
/// and `function` change how the normaliser reads what follows.
const keywords = new Set(('break case catch continue default delete do else finally for function if in instanceof new ' +
  'return switch this throw try typeof var void while with null true false enum int debugger interface final transient ' +
  'const class double boolean native char float private abstract protected public long super export extends throws byte ' +
  'static import implements package volatile goto short synchronized').split(' '))

/// The operators (ClamAV's operator table), longest first where one is the start of another: every
/// 3- and 4-byte operator begins with a 2-byte one, and every operator byte is an operator alone.
const OPERATORS = '= + === >>> !== << <= == >= >> || -- != && ++ *= /= %= += -= <<= >>= >>>= &= ^= |= & : / ! > < - * | % ? ~ ^'.split(' ')
/// OP1[c]: the 1-byte operator c; OP2[a << 7 | b]: the 2-byte operator ab (7-bit bytes); OP34: the
/// longer ones by their bytes as a little-endian number.
const OP1: Array<string | undefined> = new Array<string | undefined>(256).fill(undefined)
const OP2: Array<string | undefined> = new Array<string | undefined>(1 << 14).fill(undefined)
const OP34 = new Map<number, string>()
for (const o of OPERATORS) {
  if (o.length === 1) OP1[o.charCodeAt(0)] = o
  else if (o.length === 2) OP2[(o.charCodeAt(0) << 7) | o.charCodeAt(1)] = o
  else OP34.set(Array.from(o).reduceRight((k, ch) => k * 256 + ch.charCodeAt(0), 0), o)
}

/// Buffer's latin1 decoder, which takes any Uint8Array: a string of bytes without a subarray (a view
/// per token was the lexer's largest cost after the tokens themselves).
/// (Undocumented, so with Buffer.toString on a view as the fallback should it ever go.)
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (this: Uint8Array, from: number, to: number) => string }).latin1Slice ??
  function (this: Uint8Array, from: number, to: number): string { return Buffer.from(this.buffer, this.byteOffset + from, to - from).toString('latin1') }
export function latin1Range (b: Uint8Array, from: number, to: number): string {
  if (to - from > 12) return latin1Slice.call(b, from, to)
  let s = ''
  for (let i = from; i < to; i++) s += String.fromCharCode(b[i]!)
  return s
}

/// Identifiers seen lately, by a hash of their bytes (direct-mapped, so bounded): a script names the
/// same few identifiers over and over, and a hit costs no string and no keyword look-up.
const INTERN = 4096
const internHash = new Int32Array(INTERN)
const internText: Array<string | undefined> = new Array<string | undefined>(INTERN).fill(undefined)
const internTok = new Uint8Array(INTERN)

/// The word in[from, to) (hash h) as text and token type, from the intern table when it is there.
function internWord (input: Uint8Array, from: number, to: number, h: number): { text: string, tok: Tok } {
  const slot = h & (INTERN - 1)
  const known = internText[slot]
  if (known !== undefined && internHash[slot] === h && known.length === to - from) {
    let k = 0
    while (k < known.length && known.charCodeAt(k) === input[from + k]) k++
    if (k === known.length) { interned.text = known; interned.tok = internTok[slot]!; return interned }
  }
  const text = latin1Range(input, from, to)
  internHash[slot] = h
  internText[slot] = text
  internTok[slot] = interned.tok = wordTok(text)
  interned.text = text
  return interned
}
const interned = { text: '', tok: Tok.Ident as Tok }
const wordTok = (text: string): Tok => keywords.has(text) ? (text === 'var' ? Tok.Var : text === 'function' ? Tok.Function : Tok.Other) : Tok.Ident
/// Short runs of bytes as a string, without an intermediate array.
const latin1 = (b: Uint8Array | number[]): string => {
  if (b.length <= 4096) return String.fromCharCode.apply(null, b as number[])
  let s = ''
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode.apply(null, b.slice(i, i + 4096) as number[])
  return s
}

const hexValue = (c: number): number => c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1
const LONG_MAX = (1n << 63n) - 1n

/// A code point below 0x10000 as UTF-8 bytes (NUL as 0x01), libclamav's output_utf8.
export function utf8Of (u: number, out: number[]): void {
  if (u === 0) out.push(1)
  else if (u < 0x80) out.push(u)
  else if (u < 0x800) out.push(0xc0 | (u >> 6), 0x80 | (u & 0x3f))
  else out.push(0xe0 | (u >> 12), 0x80 | ((u >> 6) & 0x3f), 0x80 | (u & 0x3f))
}

/// Two hex digits as libclamav combines them: a bad first digit counts 0, a bad second one makes
/// the whole byte 0xff (its -1 ORed in).
const hexPair = (a: number, b: number): number => ((Math.max(hexValue(a), 0) << 4) | hexValue(b)) & 0xff

/// C's atoi on a number's text: its leading decimal digits (a number resumed in a new piece may
/// hold a `.` it read as an integer's: "2.5" is 2), strtol clamping at LONG_MAX, the int cast
/// keeping 32 bits.
function atoi (text: string): number {
  if (text.length <= 9) { // the common case: exact in a double, below 2^31
    let v = 0
    for (let i = 0; i < text.length; i++) {
      const d = text.charCodeAt(i) - 0x30
      if (d < 0 || d > 9) break
      v = v * 10 + d
    }
    return v
  }
  const trimmed = (/^\d*/.exec(text)?.[0] ?? '').replace(/^0+/, '')
  const v = trimmed.length > 19 ? LONG_MAX : BigInt(trimmed === '' ? '0' : trimmed)
  return Number(BigInt.asIntN(32, v > LONG_MAX ? LONG_MAX : v))
}

/// C's atof on the number's text (its longest valid prefix).
function atof (text: string): number {
  const m = /^\d*\.?\d*(?:[eE][+-]?\d+)?/.exec(text)
  const v = Number(m?.[0] ?? '0')
  return Number.isNaN(v) ? 0 : v
}

export class JsLexer {
  #state = State.Initial
  #in: Uint8Array = new Uint8Array(0)
  #pos = 0
  #end = 0
  #lastPos = -1
  #lastState = -1
  /// The token being read (identifier, number or string bytes), across pieces.
  #buf: number[] = []
  /// The last token's text (latin1) or value.
  text = ''
  value = 0

  /// The next piece of script text: in[from, to).
  scan (input: Uint8Array, from: number, to: number): void {
    this.#in = input
    this.#pos = from
    this.#end = to
    this.#lastPos = -1
    this.#lastState = -1
  }

  /// Which string quote is open at the end of the input (0: none), for the normaliser's close.
  get openQuote (): number { return this.#state === State.DQString ? 0x22 : this.#state === State.SQString ? 0x27 : 0 }

  /// The next token of the piece, Tok.End when the piece is used up.
  next (): Tok {
    const input = this.#in
    const end = this.#end
    if (this.#pos === this.#lastPos && this.#lastState === this.#state) this.#pos++ // libclamav's loop guard
    this.#lastPos = this.#pos
    this.#lastState = this.#state
    while (this.#pos < end) {
      switch (this.#state as number) {
        case State.Initial: {
          if (this.#buf.length > 0) this.#buf = []
          const c = input[this.#pos++]!
          switch (cls[c]! as number) {
            case C.WS: case C.Nop: continue
            case C.Slash:
              if (this.#pos < end) {
                const next = input[this.#pos]
                if (next === 0x2a) { this.#state = State.MultiComment; this.#pos++; continue }
                if (next === 0x2f) { this.#state = State.LineComment; this.#pos++; continue }
              }
              this.#pos--
              return this.#operator()
            case C.Op: this.#pos--; return this.#operator()
            case C.DQ: return this.#string(0x22, State.DQString)
            case C.SQ: return this.#string(0x27, State.SQString)
            case C.Digit: this.#pos--; return this.#number()
            case C.Id: this.#pos--; return this.#identifier()
            default: this.text = String.fromCharCode(c); return punct[c]!
          }
        }
        case State.DQString: return this.#string(0x22, State.DQString)
        case State.SQString: return this.#string(0x27, State.SQString)
        case State.Identifier: return this.#identifier()
        case State.Number: return this.#number()
        case State.MultiComment:
          while (this.#pos + 1 < end) {
            if (input[this.#pos] === 0x2a && input[this.#pos + 1] === 0x2f) { this.#state = State.Initial; this.#pos++; break }
            this.#pos++
          }
          this.#pos++
          break
        default: // LineComment: to a newline or a space
          while (this.#pos < end && input[this.#pos] !== 0x0a && input[this.#pos] !== 0x20) this.#pos++
          this.#state = State.Initial
      }
    }
    return Tok.End
  }

  #operator (): Tok {
    const input = this.#in
    const at = this.#pos
    const rest = this.#end - at
    const a = input[at]!
    let s = OP1[a]
    let len = 1
    if (rest >= 2) {
      const b = input[at + 1]!
      const two = a < 0x80 && b < 0x80 ? OP2[(a << 7) | b] : undefined
      if (two !== undefined) {
        s = two
        len = 2
        if (rest >= 3) {
          const three = OP34.get(a | (b << 8) | (input[at + 2]! << 16))
          if (three !== undefined) {
            s = three
            len = 3
            if (rest >= 4) {
              const four = OP34.get((a | (b << 8) | (input[at + 2]! << 16)) + input[at + 3]! * 2 ** 24)
              if (four !== undefined) { s = four; len = 4 }
            }
          }
        }
      }
    }
    this.#pos += len
    if (s === undefined) { this.text = ''; return Tok.Other } // not reached: every operator byte is an operator
    this.text = s
    return s === '+' ? Tok.Plus : Tok.Other
  }

  #string (quote: number, open: State): Tok {
    const input = this.#in
    const start = this.#pos
    let close = -1
    for (let i = start; i < this.#end; i++) {
      if (input[i] === quote && !(i > start && input[i - 1] === 0x5c)) { close = i; break }
    }
    if (close >= 0 && this.#buf.length === 0 && this.#plain(start, close)) {
      // The common case: a whole string without escapes in the piece, read straight from it.
      this.#pos = close + 1
      this.#state = State.Initial
      this.text = latin1Range(input, start, close)
      return Tok.Str
    }
    this.#appendNormalised(start, close >= 0 ? close : this.#end)
    if (close < 0) {
      this.#pos = this.#end
      this.#state = open
      return Tok.End
    }
    this.#pos = close + 1
    this.#state = State.Initial
    this.text = this.#take()
    return Tok.Str
  }

  /// Whether in[from, to) holds no backslash and no NUL (then it needs no decoding).
  #plain (from: number, to: number): boolean {
    const input = this.#in
    for (let i = from; i < to; i++) if (input[i] === 0x5c || input[i] === 0) return false
    return true
  }

  /// A string's bytes with JavaScript escapes decoded as libclamav's cli_textbuffer_append_normalize does.
  #appendNormalised (from: number, to: number): void {
    const s = this.#in
    const out = this.#buf
    for (let i = from; i < to; i++) {
      let c = s[i]!
      if (c === 0x5c && i + 1 < to) {
        i++
        const e = s[i]!
        if (e === 0x30) c = 0
        else if (e === 0x62) c = 8
        else if (e === 0x74) c = 9
        else if (e === 0x6e) c = 10
        else if (e === 0x76) c = 11
        else if (e === 0x66) c = 12
        else if (e === 0x72) c = 13
        else if (e === 0x78) {
          if (i + 2 < to) c = hexPair(s[i + 1]!, s[i + 2]!)
          i += 2
        } else if (e === 0x75) {
          if (i + 4 < to) {
            const u = ((Math.max(hexValue(s[i + 1]!), 0) << 12) | (Math.max(hexValue(s[i + 2]!), 0) << 8) |
              (Math.max(hexValue(s[i + 3]!), 0) << 4) | hexValue(s[i + 4]!)) & 0xffff
            utf8Of(u, out)
            i += 4
            continue
          }
        } else c = e
      }
      out.push(c === 0 ? 1 : c)
    }
  }

  #take (): string {
    const s = latin1(this.#buf)
    this.#buf = []
    return s
  }

  #number (): Tok {
    const input = this.#in
    const b = this.#buf
    let isFloat = false // per call, as in libclamav: a number resumed in a new piece reads as an integer
    while (this.#pos < this.#end) {
      let c = input[this.#pos++]!
      if (c >= 0x30 && c <= 0x39) { b.push(c); continue }
      if (c === 0x2e && !isFloat) { isFloat = true; b.push(c); continue }
      if ((c === 0x65 || c === 0x45) && isFloat) {
        b.push(c)
        if (this.#pos < this.#end) {
          c = input[this.#pos++]!
          if (c === 0x2b || c === 0x2d || (c >= 0x30 && c <= 0x39)) { b.push(c); continue }
        }
      }
      this.#pos--
      this.#state = State.Initial
      const text = this.#take()
      if (isFloat) { this.value = atof(text); return Tok.Float }
      this.value = atoi(text)
      return Tok.Int
    }
    this.#state = State.Number
    return Tok.End
  }

  #identifier (): Tok {
    const input = this.#in
    const b = this.#buf
    this.#state = State.Initial
    // The common case: a plain identifier inside the piece, read straight from it.
    if (b.length === 0) {
      const start = this.#pos
      const end = this.#end
      let i = start
      let h = 0x811c9dc5 | 0
      let c = 0
      while (i < end && idClass[c = input[i]!] === C.Id) { h = Math.imul(h ^ c, 0x01000193); i++ }
      if (i < end && c !== 0x5c) {
        this.#pos = i
        const w = internWord(input, start, i, h)
        this.text = w.text
        return w.tok
      }
    }
    while (this.#pos < this.#end) {
      const c = input[this.#pos++]!
      const k = idClass[c]
      if (k === C.Id) { b.push(c); continue }
      if (k === C.Op) { // a backslash
        if (this.#pos < this.#end && input[this.#pos++] === 0x75) { b.push(c); continue }
        if (this.#pos === this.#end) this.#pos++
      }
      this.#pos--
      return this.#word(this.#take())
    }
    this.#state = State.Identifier
    return Tok.End
  }

  #word (text: string): Tok {
    this.text = text
    return wordTok(text)
  }
}
