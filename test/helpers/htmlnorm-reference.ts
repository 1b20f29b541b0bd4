/// The reference HTML normaliser for the differential test (test/unit/htmlnorm-diff.test.ts) and the
/// micro-bench (bench/htmlnorm.ts): src/engine/matcher/htmlnorm.ts as it was first checked byte for
/// byte against clamscan 1.4.6 --leave-temps (commit d967d93), a plain per-byte state machine, kept
/// unchanged so the fast normaliser can be compared with it on any input. Not used by the engine.
import { entityCodePoint } from '../../src/engine/matcher/html-entities.js'
import type { HtmlForms } from '../../src/engine/matcher/htmlnorm.js'

const NORM = 0
const SKIP_WS = 1
const TRIM_WS = 2
const TAG = 3
const TAG_ARG = 4
const TAG_ARG_EQUAL = 5
const TAG_ARG_VAL = 6
const COMMENT = 7
const PROCESS_TAG = 8
const CHAR_REF = 9
const ENTITY = 10
const NUMREF = 11
const EIGHT_BIT = 12
const DATA_TYPE = 13
const DATA_INIT = 14
const DATA = 15
const DATA_HEX = 16
const DATA_HEX_DONE = 17
const DATA_FINISH = 18

/// Where the parser is: in text, or inside a script or style body (kept, but without whitespace).
const OUTSIDE = 0
const SCRIPT = 1
const STYLE = 2

/// libclamav's HTML_STR_LENGTH: tag names, attribute names and values and reference names are
/// remembered up to this many bytes (the output goes on).
const STR_MAX = 1024
/// libclamav reads 8191 bytes at a time (cli_readchunk with 8192).
const READ = 8191
const PENDING_MAX = 1 << 20
const INT64_MAX = (1n << 63n) - 1n

const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d)
const lower = (c: number): number => c >= 0x41 && c <= 0x5a ? c | 0x20 : c
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39
const isHex = (c: number): boolean => isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66)
const isAlnum = (c: number): boolean => isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a)
const bytesOf = (s: string): Uint8Array => Buffer.from(s, 'latin1')
const equals = (buf: Uint8Array, len: number, lit: Uint8Array): boolean => {
  if (len !== lit.length) return false
  for (let i = 0; i < len; i++) if (buf[i] !== lit[i]) return false
  return true
}
const [SCRIPT_TAG, STYLE_TAG, END_SCRIPT, END_STYLE, A_TAG, IMG_TAG, HREF, SRC, DATA_URI, QUOTED_DATA_URI] =
  ['script', 'style', '/script', '/style', 'a', 'img', 'href', 'src', 'data:', '"data:'].map(bytesOf) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array]

/// Full stops of CJK text that ClamAV writes as '.' (UTF-8 of U+3002, U+FF0E, U+FE52).
const isWideStop = (mb: number): boolean => mb === 0xe38082 || mb === 0xefbc8e || mb === 0xefb992
const HEX = bytesOf('0123456789abcdef')

export class ReferenceHtmlNormaliser {
  #o = new Uint8Array(0) // nocomment output; its last byte is held back (a comment's `<` is taken back)
  #on = 0
  #held = -1
  #t = new Uint8Array(0) // notags output
  #tn = 0
  #state = NORM
  #next = NORM
  #in = OUTSIDE
  #textSpace = false
  /// Raw bytes waiting for the lookahead that decides where ClamAV's 8 KiB read ends (see #feed).
  #pending = new Uint8Array(0)
  /// Index of the current byte in ClamAV's current read (NULs not counted). libclamav stops
  /// normalising where a style block's end tag is processed less than 8 bytes into a read (its
  /// "style chunk size underflow"); not followed, on purpose (htmlnorm.ts): stoppedAt records the
  /// point.
  #at = 0
  #styleBegin = 0
  /// Where libclamav would have stopped (-1: it would not): for tests that show the difference.
  stoppedAt = -1
  #binary = false // inside a data: URI's payload, \r and \n are bytes like any other
  readonly #tag = new Uint8Array(STR_MAX)
  #tagLen = 0
  readonly #arg = new Uint8Array(STR_MAX)
  #argLen = 0
  #argName = 0 // length of the attribute name being valued
  readonly #val = new Uint8Array(STR_MAX)
  #valLen = 0
  #quoted = 0 // 0, or the quote byte that opened the value
  readonly #ent = new Uint8Array(STR_MAX)
  #entLen = 0
  #num = 0n // int64 in ClamAV, whose overflow rules decide what a huge &#n; writes
  #hex = false
  #escLen = 0
  #mb = 0 // pending bytes above 0x7f in text
  #mb2 = 0 // and in an attribute value
  // The first href and src of the open tag (null: present without a value).
  #href: Uint8Array | null | undefined
  #src: Uint8Array | null | undefined

  /// Both forms of the next chunk, in buffers this normaliser reuses on the next call. Up to one
  /// read's worth of bytes (8 KiB) waits for the next call or end().
  push (chunk: Uint8Array): HtmlForms {
    // A plain Uint8Array view: one array type in the loops (a Buffer here and there made every byte
    // access polymorphic, several times slower).
    let buf = Object.getPrototypeOf(chunk) === Uint8Array.prototype ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)
    if (this.#pending.length > 0) {
      buf = new Uint8Array(this.#pending.length + chunk.length)
      buf.set(this.#pending)
      buf.set(chunk, this.#pending.length)
    }
    this.#reserve(buf.length)
    const used = this.#feed(buf, false)
    this.#pending = buf.slice(used)
    return this.#take(false)
  }

  /// The rest at end of input: the held-back byte, the last reads and a reference left open.
  end (): HtmlForms {
    this.#reserve(this.#pending.length)
    this.#feed(this.#pending, true)
    this.#pending = new Uint8Array(0)
    if (this.#entLen > 0) {
      const cp = entityCodePoint(Buffer.from(this.#ent.subarray(0, this.#entLen)).toString('latin1'))
      if (cp >= 0) this.#codePoint(cp & 0xffff, false)
      else { this.#out(0x26); for (let k = 0; k < this.#entLen; k++) this.#out(lower(this.#ent[k]!)) }
      this.#entLen = 0
    }
    return this.#take(true)
  }

  /// libclamav reads the page in pieces of up to 8191 bytes (NULs dropped) and, unless the next byte
  /// is whitespace, ends a piece after its last whitespace byte; each piece's leading whitespace is
  /// skipped whatever the state. Where the pieces end changes the forms, so the same pieces are
  /// cut here. Returns how many bytes of buf were used (the rest needs more input, unless final).
  #feed (buf: Uint8Array, final: boolean): number {
    let pos = 0
    while (pos < buf.length) {
      let i = pos
      let count = 0
      while (i < buf.length && count < READ) { if (buf[i] !== 0) count++; i++ }
      // Not enough for a whole read and its lookahead byte: wait (a NUL flood waits at most PENDING_MAX).
      if (!final && (count < READ || i === buf.length) && buf.length - pos < PENDING_MAX) break
      let keep = count
      let next = i
      if (i < buf.length && !isSpace(buf[i]!)) {
        // Back to the last whitespace byte (not the first byte); the raw offset goes back by the
        // bytes given up, counted without NULs, as libclamav does.
        let k = count
        let j = i - 1
        while (k > 1) {
          if (buf[j] !== 0) { if (isSpace(buf[j]!)) break; k-- }
          j--
        }
        if (k > 1) { keep = k; next = i - (count - keep) }
      }
      let end = pos
      for (let n = 0; n < keep; end++) if (buf[end] !== 0) n++
      this.#run(buf, pos, end)
      pos = next
    }
    return pos
  }

  #reserve (n: number): void {
    // Per input byte at most two output bytes (a reference like &#256; grows to &#x0100;), plus
    // what a chunk boundary carries over (a pending reference name or href value, ≤ STR_MAX each).
    const need = 2 * n + 4 * STR_MAX
    if (this.#o.length < need) this.#o = new Uint8Array(need)
    if (this.#t.length < need) this.#t = new Uint8Array(need)
    if (this.#held >= 0) { this.#o[0] = this.#held; this.#on = 1; this.#held = -1 }
  }

  #take (last: boolean): HtmlForms {
    const keep = last || this.#on === 0 ? 0 : 1
    const forms = { nocomment: this.#o.subarray(0, this.#on - keep), notags: this.#t.subarray(0, this.#tn) }
    // The held-back byte goes to the front of the next chunk's output (#reserve puts it there, once
    // the caller is done with these views).
    this.#held = keep === 1 ? this.#o[this.#on - 1]! : -1
    this.#on = 0
    this.#tn = 0
    return forms
  }

  #out (c: number): void { this.#o[this.#on++] = c }
  #toText (c: number): void { this.#t[this.#tn++] = c }
  #value (c: number): void { if (this.#valLen < STR_MAX) this.#val[this.#valLen++] = c }
  #space (): void { if (!this.#textSpace && this.#in === OUTSIDE) { this.#toText(0x20); this.#textSpace = true } }

  /// A code point as libclamav writes it: below 0xff the byte, CJK full stops '.', else &#xhhhh;.
  #codePoint (u: number, toValue: boolean): void {
    if (u === 0) return
    if (u < 0xff) { this.#out(u); if (toValue) this.#value(u); return }
    if (u === 0x3002 || u === 0xff0e || u === 0xfe52) { this.#out(0x2e); if (toValue) this.#value(0x2e); return }
    const bytes = [0x26, 0x23, 0x78, HEX[(u >> 12) & 15]!, HEX[(u >> 8) & 15]!, HEX[(u >> 4) & 15]!, HEX[u & 15]!, 0x3b]
    for (const b of bytes) { this.#out(b); if (toValue) this.#value(b) }
  }

  /// An unknown or broken reference is written back, lower-cased: `&name` (and `;` if it had one).
  #entityVerbatim (semicolon: boolean): void {
    const toValue = this.#next === TAG_ARG_VAL
    this.#out(0x26); if (toValue) this.#value(0x26)
    for (let k = 0; k < this.#entLen; k++) { const c = lower(this.#ent[k]!); this.#out(c); if (toValue) this.#value(c) }
    if (semicolon) { if (toValue) this.#value(0x3b); this.#out(0x3b) }
  }

  /// Pending multi-byte bytes: c0 c1 c2 of up to three (c0 first), as ClamAV writes them.
  #flushWide (mb: number, toText: boolean, toValue: boolean): void {
    const c0 = mb >>> 16
    const c1 = (mb >>> 8) & 0xff
    const c2 = mb & 0xff
    if (c0 !== 0) { this.#out(c0); if (toText) this.#toText(c0); if (toValue) this.#value(c0) }
    if (c0 !== 0 || c1 !== 0) { this.#out(c1); if (toText) this.#toText(c1); if (toValue) this.#value(c1) }
    this.#out(c2)
    if (toText) this.#toText(c1) // sic: libclamav writes the middle byte again where the last belongs
    if (toValue) this.#value(c2)
  }

  #addArg (withValue: boolean): void {
    const name = this.#arg
    const len = this.#argName
    const isHref = equals(name, len, HREF)
    if (!isHref && !equals(name, len, SRC)) return
    let value: Uint8Array | null = null
    if (withValue) {
      // A C string: up to the first NUL; a quoted one loses its first and last byte.
      const quoted = this.#val[0] === 0x22 && this.#valLen > 0
      let v = this.#val.subarray(quoted ? 1 : 0, this.#valLen)
      const nul = v.indexOf(0)
      if (nul >= 0) v = v.subarray(0, nul)
      if (quoted && v.length > 0) v = v.subarray(0, v.length - 1)
      value = v.slice()
    }
    if (isHref) { if (this.#href === undefined) this.#href = value } else if (this.#src === undefined) this.#src = value
  }

  #processTag (): void {
    const tag = this.#tag
    const len = this.#tagLen
    this.#state = SKIP_WS
    this.#next = NORM
    if (len > 0 && tag[0] === 0x2f) {
      if (equals(tag, len, END_SCRIPT)) this.#in = OUTSIDE
      else if (equals(tag, len, END_STYLE) && this.#in === STYLE) {
        this.#in = OUTSIDE
        if (this.#at - 8 < this.#styleBegin && this.stoppedAt < 0) this.stoppedAt = this.#at // 8: strlen("</style>")
      }
    } else if (equals(tag, len, SCRIPT_TAG)) {
      this.#in = SCRIPT
    } else if (equals(tag, len, STYLE_TAG)) {
      this.#in = STYLE
      this.#styleBegin = this.#at
    } else {
      const link = equals(tag, len, A_TAG) ? this.#href : equals(tag, len, IMG_TAG) ? this.#src : undefined
      if (link !== undefined && link !== null && link.length > 0) {
        for (const c of link) this.#toText(c)
        this.#toText(0x20)
        this.#textSpace = true
      }
    }
    this.#href = undefined
    this.#src = undefined
  }

  /// One of libclamav's reads: buf[from, to), NULs dropped, leading whitespace skipped.
  #run (buf: Uint8Array, from: number, to: number): void {
    if (this.#in === STYLE) this.#styleBegin = 0
    this.#at = 0
    let i = from
    while (i < to && (buf[i] === 0 || isSpace(buf[i]!))) { if (buf[i] !== 0) this.#at++; i++ }
    while (i < to) {
      const s = this.#state
      if (s === NORM || s === TRIM_WS || (s === SKIP_WS && this.#next === NORM)) {
        i = this.#text(buf, i, to)
        if (i >= to) break
      } else if (s === TAG_ARG_VAL && this.#mb2 === 0) {
        i = this.#plainValue(buf, i, to)
        if (i >= to) break
      }
      let c = buf[i]!
      if (c === 0) { i++; continue }
      if (!this.#binary) {
        if (c === 0x0a) c = 0x20
        else if (c === 0x0d) { i++; this.#at++; continue }
      }
      const used = this.#step(c)
      i += used
      this.#at += used
    }
  }

  /// The common case inline (most of a page): text and whitespace runs in NORM, TRIM_WS and SKIP_WS
  /// towards NORM, as #step would do them. Stops at a byte #step must see; returns its index.
  #text (buf: Uint8Array, from: number, to: number): number {
    const o = this.#o
    const t = this.#t
    const outside = this.#in === OUTSIDE
    let on = this.#on
    let tn = this.#tn
    let at = this.#at
    let state = this.#state
    let textSpace = this.#textSpace
    let i = from
    while (i < to) {
      const c = buf[i]!
      if (c === 0) { i++; continue }
      if (c === 0x0d) { i++; at++; continue }
      const ws = c === 0x20 || (c >= 0x09 && c <= 0x0d)
      if (state === NORM) {
        if (ws) {
          if (outside && !textSpace) { t[tn++] = 0x20; textSpace = true }
          state = TRIM_WS
        } else {
          if (c === 0x3c || c === 0x26 || c >= 0x80 || c < 0x20) break
          let l = c >= 0x41 && c <= 0x5a ? c | 0x20 : c
          if (outside) { o[on++] = l; t[tn++] = l; textSpace = false } else { if (l === 0x27) l = 0x22; o[on++] = l }
        }
        i++; at++
        continue
      }
      if (ws) { i++; at++; continue }
      if (state === TRIM_WS && outside) o[on++] = 0x20
      state = NORM // the byte is seen again in NORM
    }
    this.#on = on
    this.#tn = tn
    this.#at = at
    this.#state = state
    if (state !== SKIP_WS) this.#next = NORM
    this.#textSpace = textSpace
    return i
  }

  /// Plain attribute-value bytes inline (printable ASCII but quotes, &, > and whitespace), as
  /// #attributeValue writes them; the first six bytes go through it (the data: URI check).
  #plainValue (buf: Uint8Array, from: number, to: number): number {
    const o = this.#o
    const val = this.#val
    let on = this.#on
    let valLen = this.#valLen
    let at = this.#at
    let i = from
    while (i < to && valLen > 6) {
      const c = buf[i]!
      if (c === 0) { i++; continue }
      if (c <= 0x20 || c >= 0x7f || c === 0x22 || c === 0x27 || c === 0x26 || c === 0x3e) break
      o[on++] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c
      if (valLen < STR_MAX) val[valLen++] = c
      i++; at++
    }
    this.#on = on
    this.#valLen = valLen
    this.#at = at
    return i
  }

  /// One state transition on byte c; returns 1 when c was consumed, 0 when the next state sees it again.
  #step (c: number): number {
    switch (this.#state) {
      case NORM:
        if (c === 0x3c) {
          this.#out(0x3c)
          this.#space()
          this.#state = SKIP_WS; this.#next = TAG; this.#tagLen = 0
          return 1
        }
        if (isSpace(c)) { this.#space(); this.#state = TRIM_WS; this.#next = NORM; return 0 }
        if (c === 0x26) { this.#space(); this.#state = CHAR_REF; this.#next = NORM; return 1 }
        if (c >= 0x80) { this.#state = EIGHT_BIT; this.#next = NORM; this.#mb = c; return 1 }
        {
          let l = lower(c)
          if (this.#in !== OUTSIDE && l === 0x27) l = 0x22
          this.#out(l)
          if (this.#in === OUTSIDE) {
            if (c < 0x20) {
              if (!this.#textSpace) { this.#toText(0x20); this.#textSpace = true }
            } else {
              this.#toText(l); this.#textSpace = false
            }
          }
          return 1
        }
      case SKIP_WS:
        if (isSpace(c)) return 1
        this.#state = this.#next
        return 0
      case TRIM_WS:
        if (isSpace(c)) return 1
        if (this.#in === OUTSIDE) this.#out(0x20)
        this.#state = this.#next
        return 0
      case EIGHT_BIT: {
        const mb = this.#mb
        if (c >= 0x80 && mb < 0x10000) { this.#mb = (mb << 8) | c; return 1 }
        if (isWideStop(mb) || (mb === 0xa1 && (c === 0x43 || c === 0x44 || c === 0x4f))) {
          this.#out(0x2e); this.#toText(0x2e)
          if (mb === 0xa1) { this.#mb = 0; return 1 } // stays here: the next byte flushes an empty character
        } else {
          this.#flushWide(mb, true, false)
        }
        this.#mb = 0
        this.#state = this.#next; this.#next = NORM
        return 0
      }
      case TAG:
        if (this.#tagLen === 0 && c === 0x21) { // <! starts a comment (up to the next >)
          if (this.#in !== OUTSIDE) this.#out(0x21)
          else if (this.#on > 0) this.#on-- // takes back the <
          this.#state = COMMENT
          return 1
        }
        if (c === 0x3e) { this.#out(0x3e); this.#state = SKIP_WS; this.#next = PROCESS_TAG; return 1 }
        if (!isSpace(c)) {
          const l = lower(c)
          this.#out(l)
          // inside a script or style only an end tag matters: anything else is text again
          if (this.#in !== OUTSIDE && this.#tagLen === 0 && c !== 0x2f) this.#state = NORM
          if (this.#tagLen < STR_MAX) this.#tag[this.#tagLen++] = l
          return 1
        }
        this.#state = SKIP_WS; this.#argLen = 0
        this.#next = this.#in === OUTSIDE ? TAG_ARG : PROCESS_TAG
        return 0
      case TAG_ARG:
        if (c === 0x3d) {
          this.#out(0x3d); this.#argName = this.#argLen
          this.#state = SKIP_WS; this.#quoted = 0; this.#valLen = 0; this.#next = TAG_ARG_VAL
          return 1
        }
        if (isSpace(c)) { this.#argName = this.#argLen; this.#state = SKIP_WS; this.#next = TAG_ARG_EQUAL; return 1 }
        if (c === 0x3e) {
          this.#out(0x3e)
          if (this.#argLen > 0) { this.#argName = this.#argLen; this.#addArg(false) }
          this.#state = PROCESS_TAG
          return 1
        }
        if (this.#argLen === 0) this.#out(0x20)
        this.#out(lower(c))
        if (this.#argLen < STR_MAX) this.#arg[this.#argLen++] = lower(c)
        return 1
      case TAG_ARG_EQUAL:
        if (c === 0x3d) {
          this.#out(0x3d); this.#state = SKIP_WS; this.#quoted = 0; this.#valLen = 0; this.#next = TAG_ARG_VAL
          return 1
        }
        if (this.#argLen > 0) this.#addArg(false)
        this.#argLen = 0; this.#state = TAG_ARG
        return 0
      case TAG_ARG_VAL:
        return this.#attributeValue(c)
      case COMMENT:
        if (this.#in !== OUTSIDE && !isSpace(c)) { const l = lower(c); this.#out(l === 0x27 ? 0x22 : l) }
        if (c === 0x3e) { this.#state = SKIP_WS; this.#next = NORM }
        return 1
      case PROCESS_TAG:
        this.#processTag()
        return 0
      case CHAR_REF:
        if (c === 0x23) { this.#num = 0n; this.#hex = false; this.#state = NUMREF; return 1 }
        this.#state = ENTITY
        return 0
      case ENTITY:
        return this.#entity(c)
      case NUMREF:
        return this.#numeric(c)
      default:
        return this.#dataUri(c)
    }
  }

  #attributeValue (c: number): number {
    if ((this.#valLen === 5 && equals(this.#val, 5, DATA_URI)) || (this.#valLen === 6 && equals(this.#val, 6, QUOTED_DATA_URI))) {
      // A data: URI: its payload is a child of the layer (formats/html.ts), not part of this form.
      if (this.#on > 0) this.#on--
      if (this.#quoted !== 0) this.#out(0x22)
      this.#valLen = 0; this.#state = DATA_TYPE; this.#next = TAG_ARG
      return 0
    }
    if (c === 0x26) { this.#state = CHAR_REF; this.#next = TAG_ARG_VAL; return 1 }
    if (c === 0x27 || c === 0x22) {
      const opening = this.#valLen === 0
      this.#out(0x22); this.#value(0x22)
      if (opening) this.#quoted = c
      else if (this.#quoted === c) { this.#addArg(true); this.#state = SKIP_WS; this.#argLen = 0; this.#next = TAG_ARG }
      return 1
    }
    if (isSpace(c) || c === 0x3e) {
      if (this.#quoted === 0) { this.#addArg(true); this.#state = SKIP_WS; this.#argLen = 0; this.#next = TAG_ARG; return 0 }
      this.#out(c); this.#value(c === 0x3e ? 0x3e : 0x20)
      this.#state = SKIP_WS; this.#quoted = 0; this.#next = TAG_ARG_VAL // the quoting ends here
      return 1
    }
    const mb = this.#mb2
    if (mb !== 0 && (c < 0x80 || mb >= 0x10000)) {
      if (isWideStop(mb) || (mb === 0xa1 && (c === 0x43 || c === 0x44 || c === 0x4f))) {
        this.#out(0x2e); this.#value(0x2e)
        if (mb === 0xa1) { this.#mb2 = 0; return 1 }
      } else {
        this.#flushWide(mb, false, true)
      }
      this.#mb2 = 0
    }
    if (c >= 0x80) this.#mb2 = (this.#mb2 << 8) | c
    else { this.#out(lower(c)); this.#value(c) }
    return 1
  }

  #entity (c: number): number {
    if (c === 0x3b) {
      const cp = entityCodePoint(Buffer.from(this.#ent.subarray(0, this.#entLen)).toString('latin1'))
      if (cp >= 0) this.#codePoint(cp & 0xffff, this.#next === TAG_ARG_VAL)
      else this.#entityVerbatim(true)
      this.#entLen = 0; this.#state = this.#next
      return 1
    }
    if ((isAlnum(c) || c === 0x5f || c === 0x3a || c === 0x2d) && this.#entLen < STR_MAX) { this.#ent[this.#entLen++] = c; return 1 }
    this.#entityVerbatim(false)
    this.#entLen = 0; this.#state = this.#next
    return 0
  }

  #numeric (c: number): number {
    const toValue = this.#next === TAG_ARG_VAL
    const low = (): number => Number(BigInt.asUintN(8, this.#num))
    if (this.#num === 0n && (c === 0x78 || c === 0x58)) { this.#hex = true; return 1 }
    if (c === 0x3b) {
      if (toValue) this.#value(low())
      if (this.#num < 0x80n) this.#out(lower(Number(this.#num)))
      else this.#codePoint(Number(BigInt.asUintN(16, this.#num)), false)
      this.#state = this.#next
      return 1
    }
    if (isDigit(c) || (this.#hex && isHex(c))) {
      // int64 arithmetic as in libclamav: past its limits the low byte is written, the digit eaten.
      if (this.#hex && this.#num < INT64_MAX / 16n) this.#num *= 16n
      else if (this.#num < INT64_MAX / 10n) this.#num *= 10n
      else { this.#out(low()); this.#state = this.#next; return 1 }
      const digit = BigInt(isDigit(c) ? c - 0x30 : (c | 0x20) - 0x61 + 10)
      if (this.#num > INT64_MAX - digit) { this.#out(low()); this.#state = this.#next; return 1 }
      this.#num += digit
      return 1
    }
    this.#out(low()) // no ';': the value's low byte, as it is
    this.#state = this.#next
    return 0
  }

  /// A data: URI in an attribute value: its media type and payload are skipped up to the closing
  /// quote (or whitespace or > when unquoted); references in it still reach the output, as in ClamAV.
  #dataUri (c: number): number {
    switch (this.#state) {
      case DATA_TYPE:
        if (c === 0x27 || c === 0x22) {
          if (this.#quoted === c) { this.#state = SKIP_WS; this.#argLen = 0; this.#next = TAG_ARG }
          return 1
        }
        if (isSpace(c) || c === 0x3e) {
          if (this.#quoted === 0) { this.#state = SKIP_WS; this.#argLen = 0; this.#next = TAG_ARG; return 0 }
          this.#state = SKIP_WS; this.#quoted = 0; this.#next = DATA_TYPE
          return 1
        }
        if (c === 0x2c) this.#state = DATA_INIT
        return 1
      case DATA_INIT:
        this.#state = DATA; this.#binary = true
        return 0
      case DATA:
        if (c === 0x26) { this.#state = CHAR_REF; this.#next = DATA; return 1 }
        if (c === 0x25) { this.#escLen = 0; this.#state = DATA_HEX; this.#next = DATA_HEX_DONE; return 1 }
        if (c === 0x27 || c === 0x22) { if (this.#quoted === c) this.#state = DATA_FINISH; return 1 }
        if ((isSpace(c) || c === 0x3e) && this.#quoted === 0) this.#state = DATA_FINISH
        return 1
      case DATA_HEX:
        this.#escLen++
        if (!isHex(c) || this.#escLen === 2) this.#state = DATA_HEX_DONE
        return 1
      case DATA_HEX_DONE:
        this.#state = DATA
        return 0
      default: // DATA_FINISH
        this.#state = SKIP_WS; this.#quoted = 0; this.#next = TAG_ARG; this.#binary = false
        return 0
    }
  }
}

/// Both forms of a whole layer at once (fresh arrays).
export function referenceNormaliseHtml (bytes: Uint8Array): HtmlForms {
  const n = new ReferenceHtmlNormaliser()
  const head = n.push(bytes)
  const nocomment = Buffer.from(head.nocomment) // copied: end() reuses the buffers
  const notags = Buffer.from(head.notags)
  const tail = n.end()
  const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.length)
  return { nocomment: plain(Buffer.concat([nocomment, tail.nocomment])), notags: plain(Buffer.concat([notags, tail.notags])) }
}
