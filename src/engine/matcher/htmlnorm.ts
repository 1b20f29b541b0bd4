/// ClamAV's normalised HTML, the forms its target-3 (HTML) signatures are matched against:
/// `nocomment` (tags, attribute names and text lower-cased, whitespace runs one space, comments
/// dropped, character references decoded, `'` quotes written `"`, script and style bodies kept
/// without whitespace, data: URI payloads cut out) and `notags` (the text alone, lower-cased, one
/// space where tags, runs of whitespace and references were, plus the href of each <a> and the src
/// of each <img>). Behaviour follows libclamav's htmlnorm (1.4), quirks included, learnt by reading
/// it and checked against clamscan 1.4.6: a comment ends at the first `>`, whitespace inside a
/// quoted attribute value ends its quoting, a byte above 0x7f in text goes to `notags` as its
/// predecessor's byte, `\r` and NUL bytes vanish. Script bodies go, as libclamav hands them to its
/// JavaScript normaliser (each read's script bytes, `</script>` included), to an optional
/// ScriptSink (jsnorm.ts writes the `javascript` form from them); a <script> whose language is
/// JScript.Encode or VBScript.Encode is decoded in the read (jscript-decode.ts) and its tag written
/// again with the plain language, as libclamav does; after an ASP page's `<%@ language=…Encode %>`
/// each read's first encoded script is decoded once the read has been normalised as it is (the
/// rest of the read normalised again, decoded, as libclamav does). Not reproduced: the `<a>`
/// contents kept for phishing checks, and, on purpose, libclamav's stop after a style block (see
/// the fields below).
/// Own code: HTML parsers on npm (parse5, htmlparser2) build a tree by the WHATWG rules, which
/// ClamAV does not follow, and none writes these byte streams. A streaming state machine over
/// bytes: each chunk in, both forms of that chunk out, in buffers reused from chunk to chunk; the
/// state that spans chunks (an open tag, a reference, a multi-byte character) lives in the object.
/// Speed: the states most bytes are in (text, whitespace runs, script and style bodies, tag and
/// attribute names, attribute values, comments) run as tight loops over 256-entry byte-class tables
/// with the output indexes in locals (#text, #tagName, #attributeName, #plainValue, #comment); every
/// other byte takes the per-byte #step. NULs are removed from a read before it is run (ClamAV drops
/// them while reading), so no loop tests for them. Prose goes 16 bytes at a time through a SIMD
/// WebAssembly kernel (htmlnorm-kernel.ts), which is why a read is copied into its memory first.
/// test/helpers/htmlnorm-reference.ts keeps the plain per-byte machine this one must equal
/// (test/unit/htmlnorm-diff.test.ts).
import { ScrencState, decodeScript, encodedLength, markerAt, withoutNuls } from './jscript-decode.js'
import { ClamavReads } from './htmlnorm-reads.js'
import { KERNEL_OUT, htmlTextKernel, type TextKernel } from './htmlnorm-kernel.js'
import { NORM, SKIP_WS, TRIM_WS, TAG, TAG_ARG, TAG_ARG_EQUAL, TAG_ARG_VAL, COMMENT, PROCESS_TAG, CHAR_REF, ENTITY, NUMREF, EIGHT_BIT, DATA_TYPE, DATA_INIT, DATA, DATA_HEX, DATA_HEX_DONE, DATA_FINISH, JSDECODE, JSDECODE_LENGTH, JSDECODE_DECRYPT, OUTSIDE, SCRIPT, STYLE, STR_MAX, INT64_MAX, isSpace, lower, isDigit, isHex, isAlnum, entityCodePointOf, equals, TEXT, SCRIPT_TEXT, LOWER, WS, CR, SPACE, NAME_STOP, ARG_STOP, PLAIN_VALUE, ENTITY_NAME, isDataUri, isWideStop, HEX, JSCRIPT_ENCODE, VBSCRIPT_ENCODE, AMP_HASH_X, SCRIPT_TAG, STYLE_TAG, END_SCRIPT, END_STYLE, A_TAG, IMG_TAG, HREF, SRC, ASP_TAG } from './htmlnorm-tables.js'

/// Where script bodies go: begin at a <script> tag, feed with each read's script bytes buf[from, to)
/// (NULs not yet dropped; `body`: where the read's leading whitespace ends: libclamav turned the
/// newlines past it into spaces), end at </script> or the page's end.
export interface ScriptSink {
  begin: () => void
  feed: (buf: Uint8Array, from: number, to: number, body: number) => void
  end: () => void
}

export interface HtmlForms {
  readonly nocomment: Uint8Array
  readonly notags: Uint8Array
}
const EMPTY: HtmlForms = { nocomment: new Uint8Array(0), notags: new Uint8Array(0) }

export class HtmlNormaliser {
  #o = new Uint8Array(0) // nocomment output; its last byte is held back (a comment's `<` is taken back)
  #on = 0
  #held = -1
  #t = new Uint8Array(0) // notags output
  #tn = 0
  #state = NORM
  #next = NORM
  #in = OUTSIDE
  #textSpace = false
  /// ClamAV's 8 KiB reads cut from the chunks, each run through #run.
  readonly #reads: ClamavReads
  readonly #kernel: TextKernel | undefined
  #backoff = 32 // bytes of text before the kernel is tried again

  /// Not emulated, on purpose: libclamav 1.4.6 stops normalising a page for good where a style
  /// block's end tag is processed less than 8 bytes into one of its reads (its "style chunk size
  /// underflow"; checked with clamscan: a target-3 signature after such a point is missed), an
  /// evasion hole a page can open at will. Here the page is normalised to its end.
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
  #num = 0 // a numeric reference's value while below 2^48 (exact as a double)
  #big: bigint | undefined // and past that: int64 in ClamAV, whose overflow rules decide what a huge &#n; writes
  #hex = false
  #escLen = 0
  #mb = 0 // pending bytes above 0x7f in text
  #mb2 = 0 // and in an attribute value
  // The first href and src of the open tag (null: present without a value).
  #href: Uint8Array | null | undefined
  #src: Uint8Array | null | undefined
  // The script sink, and where the open script's bytes start in the current read (-1: its start).
  readonly #scripts: ScriptSink | undefined
  #scriptOpen = false
  #scriptFrom = -1
  #line: Uint8Array = new Uint8Array(0)
  #lineFrom = 0
  #lineEnd = 0
  #lineBody = 0
  #cursor = 0 // the index of the byte #step sees
  #clean: Uint8Array | undefined // a read already rewritten without NULs (encoded scripts)
  // The attributes of the open <script> tag (name, value or null), for its language.
  #scriptArgs: Array<[string, Uint8Array | null]> = []
  readonly #screnc = new ScrencState()
  /// An encoded ASP page: each read is searched for an encoded script (#lookFor: at the next byte).
  #aspEncoded = false
  #lookFor = false
  /// Where the read's encoded script starts (after its `#@~^`), to be decoded once the read is done.
  #markerEnd = -1

  /// `scripts`: where script bodies go (the `javascript` form); `kernel: false`: the JS paths alone
  /// (the WebAssembly text kernel's reference in tests).
  constructor (scripts?: ScriptSink, options: { readonly kernel?: boolean } = {}) {
    this.#scripts = scripts
    this.#kernel = options.kernel === false ? undefined : htmlTextKernel()
    this.#reads = new ClamavReads({ reserve: n => { this.#reserve(n) }, run: (buf, from, to) => { this.#run(buf, from, to) } }, this.#kernel)
  }

  /// Both forms of the next chunk, in buffers this normaliser reuses on the next call. Up to one
  /// read's worth of bytes (8 KiB) waits for the next call or end().
  push (chunk: Uint8Array): HtmlForms {
    return this.#reads.push(chunk) ? this.#take(false) : EMPTY
  }

  /// The rest at end of input: the held-back byte, the last reads and a reference left open.
  end (): HtmlForms {
    this.#reads.end()
    if (this.#entLen > 0) {
      const cp = entityCodePointOf(this.#ent, this.#entLen)
      if (cp >= 0) this.#codePoint(cp & 0xffff, false)
      else { this.#out(0x26); for (let k = 0; k < this.#entLen; k++) this.#out(lower(this.#ent[k]!)) }
      this.#entLen = 0
    }
    if (this.#scriptOpen) { this.#scriptOpen = false; this.#scripts?.end() }
    return this.#take(true)
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
    for (let k = 0; k < 8; k++) {
      const b = k < 3 ? AMP_HASH_X[k]! : k === 7 ? 0x3b : HEX[(u >> (4 * (6 - k))) & 15]!
      this.#out(b); if (toValue) this.#value(b)
    }
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
    const isHref = len === 4 && equals(name, len, HREF)
    const isSrc = len === 3 && equals(name, len, SRC)
    const script = equals(this.#tag, this.#tagLen, SCRIPT_TAG) || equals(this.#tag, this.#tagLen, ASP_TAG)
    // <script>'s and <%@'s attributes are all kept (the language says whether a script is encoded);
    // elsewhere only the first href or src counts
    if (!script && (!(isHref || isSrc) || (isHref ? this.#href : this.#src) !== undefined)) return
    let value: Uint8Array | null = null
    if (withValue) {
      // A C string: up to the first NUL; a quoted one loses its first and last byte.
      const val = this.#val
      const quoted = val[0] === 0x22 && this.#valLen > 0
      const start = quoted ? 1 : 0
      let end = start
      while (end < this.#valLen && val[end] !== 0) end++
      if (quoted && end > start) end--
      value = val.slice(start, end)
    }
    if (script) this.#scriptArgs.push([Buffer.from(name.subarray(0, len)).toString('latin1'), value])
    if (isHref) { if (this.#href === undefined) this.#href = value } else if (isSrc && this.#src === undefined) this.#src = value
  }

  #processTag (): void {
    const tag = this.#tag
    const len = this.#tagLen
    this.#state = SKIP_WS
    this.#next = NORM
    if (len > 0 && tag[0] === 0x2f) {
      if (equals(tag, len, END_SCRIPT)) {
        this.#in = OUTSIDE
        if (this.#scriptOpen) {
          this.#scripts?.feed(this.#line, this.#scriptFrom < 0 ? this.#lineFrom : this.#scriptFrom, this.#cursor, this.#lineBody)
          this.#scripts?.end()
          this.#scriptOpen = false
        }
      } else if (equals(tag, len, END_STYLE) && this.#in === STYLE) {
        this.#in = OUTSIDE
      }
    } else if (equals(tag, len, SCRIPT_TAG)) {
      this.#encodedScript()
      this.#in = SCRIPT
      if (this.#scripts !== undefined && !this.#scriptOpen) {
        this.#scripts.begin()
        this.#scriptOpen = true
        this.#scriptFrom = this.#cursor
      }
    } else if (equals(tag, len, STYLE_TAG)) {
      this.#in = STYLE
    } else if (equals(tag, len, ASP_TAG)) {
      // <%@ language="JScript.Encode" %>: from here on each read is searched for an encoded script
      if (this.#encodedLanguage() !== undefined) { this.#aspEncoded = true; this.#lookFor = true }
    } else {
      const link = equals(tag, len, A_TAG) ? this.#href : equals(tag, len, IMG_TAG) ? this.#src : undefined
      if (link !== undefined && link !== null && link.length > 0) {
        this.#t.set(link, this.#tn)
        this.#tn += link.length
        this.#toText(0x20)
        this.#textSpace = true
      }
    }
    this.#href = undefined
    this.#src = undefined
    this.#scriptArgs = []
  }

  /// <script language="JScript.Encode"> (or VBScript.Encode): the tag written again with the plain
  /// language, and the body decoded from its start marker on.
  #encodedScript (): void {
    const language = this.#encodedLanguage()
    if (language === undefined) return
    language[1] = Buffer.from(language[1] === JSCRIPT_ENCODE ? 'javascript' : 'vbscript', 'latin1')
    this.#out(0x3c)
    for (const c of SCRIPT_TAG) this.#out(c)
    for (const [name, v] of this.#scriptArgs) {
      this.#out(0x20)
      for (let k = 0; k < name.length; k++) this.#out(name.charCodeAt(k))
      if (v === null) continue
      this.#out(0x3d); this.#out(0x22)
      for (const c of v) this.#out(lower(c))
      this.#out(0x22)
    }
    this.#out(0x3e)
    this.#state = SKIP_WS
    this.#next = JSDECODE
  }

  /// The open tag's `language` attribute (the first), when it names an encoded script (its value
  /// then JSCRIPT_ENCODE or VBSCRIPT_ENCODE).
  #encodedLanguage (): [string, Uint8Array | null] | undefined {
    const language = this.#scriptArgs.find(([name]) => name === 'language')
    const value = language?.[1] === null || language === undefined ? '' : Buffer.from(language[1]).toString('latin1').toLowerCase()
    if (value === 'jscript.encode') language![1] = JSCRIPT_ENCODE
    else if (value === 'vbscript.encode') language![1] = VBSCRIPT_ENCODE
    else return undefined
    return language
  }

  /// The read as a copy of its own from here on (indices from its start, no NULs), to be rewritten
  /// in place as libclamav rewrites its read buffer; the same read once copied.
  #ownRead (line: Uint8Array, i: number, to: number): [Uint8Array, number, number] {
    if (line === this.#clean) return [line, to, i]
    const base = this.#lineFrom
    const r = withoutNuls(line, base, i, to)
    this.#clean = r.line
    this.#lineFrom = 0
    this.#lineBody = Math.max(0, this.#lineBody - base)
    if (this.#scriptFrom >= 0) this.#scriptFrom -= base
    return [r.line, r.end, i - base]
  }

  /// An encoded ASP page (<%@ language=…Encode %>): the first `#@~^` of the read from byte i on is
  /// turned into `//` (the JavaScript normaliser's comment) and decoded once the read has been
  /// processed as it is, from there on (libclamav's HTML_LOOKFOR_SCRENC, read twice as it does).
  #lookForMarker (line: Uint8Array, i: number, to: number): [Uint8Array, number, number] {
    this.#lookFor = false
    let at = i
    while (at + 4 <= to && !markerAt(line, at, to)) at++
    if (at + 4 > to) return [line, to, i]
    const start = i
    ;[line, to, i] = this.#ownRead(line, i, to)
    at -= start - i
    line[at] = 0x2f; line[at + 1] = 0x2f
    this.#markerEnd = at + 4
    return [line, to, i]
  }

  /// One step of an encoded script, in the read itself (libclamav decodes in its read buffer): the
  /// bytes before the start marker as they are, then the header, then the decoding. Returns the
  /// (possibly rewritten) read, its end and the next index.
  #encoded (line: Uint8Array, i: number, to: number): [Uint8Array, number, number] {
    ;[line, to, i] = this.#ownRead(line, i, to)
    if (line[i] === 0x0d) return [line, to, i + 1]
    if (line[i] === 0x0a) line[i] = 0x20
    if (this.#state === JSDECODE) {
      if (!markerAt(line, i, to)) { this.#out(lower(line[i]!)); return [line, to, i + 1] }
      line[i] = 0x2f; line[i + 1] = 0x2f // for the JavaScript normaliser: a comment
      this.#state = JSDECODE_LENGTH
      return [line, to, i + 4]
    }
    if (this.#state === JSDECODE_LENGTH) {
      if (to - i < 8) { this.#state = NORM; return [line, to, i] }
      this.#screnc.length = encodedLength(line, i)
      this.#screnc.sum = 0
      this.#screnc.pos = 0
      line[i + 7] = 0x0a
      this.#state = JSDECODE_DECRYPT
      return [line, to, i + 8]
    }
    const r = decodeScript(line, i, to, this.#screnc)
    this.#clean = r.line
    this.#state = NORM
    return [r.line, r.end, i]
  }

  /// One of libclamav's reads: buf[from, to) (no NULs: ClamavReads removed them), leading whitespace
  /// skipped. The fast path of the current state takes the bytes it can; the byte it stops at goes
  /// through #step, and so on.
  #run (buf: Uint8Array, from: number, to: number): void {
    let i = from
    while (i < to && isSpace(buf[i]!)) i++
    this.#line = buf
    this.#lineFrom = from
    this.#lineBody = i
    if (this.#screnc.open) this.#state = JSDECODE_DECRYPT
    else if (this.#aspEncoded) this.#lookFor = true
    for (;;) {
      if (this.#lookFor && i < to) { [buf, to, i] = this.#lookForMarker(buf, i, to); this.#line = buf }
      this.#pass(buf, i, to)
      buf = this.#line
      to = this.#lineEnd
      if (this.#scriptOpen) {
        this.#scripts?.feed(buf, this.#scriptFrom < 0 ? this.#lineFrom : this.#scriptFrom, to, this.#lineBody)
        this.#scriptFrom = -1
      }
      if (this.#markerEnd < 0) break
      // The read again from its encoded script on (its leading whitespace skipped, as for a read).
      i = this.#markerEnd
      this.#markerEnd = -1
      this.#state = JSDECODE_LENGTH
      while (i < to && isSpace(buf[i]!)) i++
    }
  }

  /// The states over buf[i, to) (the read, or what is left of it); the read, possibly rewritten by
  /// an encoded script, is left in #line and #lineEnd.
  #pass (buf: Uint8Array, i: number, to: number): void {
    while (i < to) {
      const s = this.#state
      if (s >= JSDECODE) {
        [buf, to, i] = this.#encoded(buf, i, to)
        this.#line = buf
        continue
      }
      if (s === NORM || s === TRIM_WS || (s === SKIP_WS && this.#next === NORM)) {
        i = this.#text(buf, i, to)
      } else if (s === SKIP_WS) {
        while (i < to && SPACE[buf[i]!] !== 0) i++
        if (i < to) this.#state = this.#next
        continue
      } else if (s === TAG) {
        if (this.#in === OUTSIDE || this.#tagLen > 0) i = this.#tagName(buf, i, to)
      } else if (s === TAG_ARG) {
        i = this.#attributeName(buf, i, to)
      } else if (s === TAG_ARG_VAL) {
        if (this.#mb2 === 0) i = this.#plainValue(buf, i, to)
      } else if (s === ENTITY) {
        i = this.#entityName(buf, i, to)
      } else if (s === COMMENT) {
        if (this.#in === OUTSIDE) i = this.#comment(buf, i, to)
      } else if (s === PROCESS_TAG) {
        // The tag is processed when the next byte (not a dropped \r) arrives, at its index in the read.
        if (buf[i] === 0x0d && !this.#binary) { i++; continue }
        this.#cursor = i
        this.#processTag()
        if (this.#lookFor) { [buf, to, i] = this.#lookForMarker(buf, i, to); this.#line = buf }
        continue
      }
      if (i >= to) break
      let c = buf[i]!
      if (!this.#binary) {
        if (c === 0x0a) c = 0x20
        else if (c === 0x0d) { i++; continue }
      }
      this.#cursor = i
      i += this.#step(c)
    }
    this.#line = buf
    this.#lineEnd = to
  }

  /// Text and whitespace runs in NORM, TRIM_WS and SKIP_WS towards NORM, as #step would do them:
  /// plain bytes to both forms (to `nocomment` alone inside a script or style body), a whitespace
  /// run one space, \r dropped, other control bytes kept (a space in `notags`). Stops at a byte #step
  /// must see (`<`, `&`, above 0x7f); returns its index.
  #text (buf: Uint8Array, from: number, to: number): number {
    const o = this.#o
    let on = this.#on
    let state = this.#state
    let i = from
    if (this.#in === OUTSIDE) {
      const t = this.#t
      let tn = this.#tn
      let textSpace = this.#textSpace
      // The kernel reads its own memory: not a read rewritten elsewhere (an encoded script's).
      const kernel = this.#kernel !== undefined && buf === this.#kernel.bytes ? this.#kernel : undefined
      let retry = i // where the kernel is tried again after a block it could not take
      let backoff = this.#backoff
      while (i < to) {
        if (state !== NORM) { // TRIM_WS, or SKIP_WS towards NORM: the rest of the run goes
          while (i < to && SPACE[buf[i]!] !== 0) i++
          if (i >= to) break
          if (state === TRIM_WS) o[on++] = 0x20
          state = NORM
        }
        if (kernel !== undefined && i >= retry && to - i >= 32) {
          // Prose: 16-byte blocks in WebAssembly (buf is the kernel's memory: ClamavReads copies each read there).
          const end = kernel.text(i, to, KERNEL_OUT, textSpace ? 1 : 0)
          const n = end - i
          if (n > 0) {
            const out = kernel.bytes.subarray(KERNEL_OUT, KERNEL_OUT + n)
            o.set(out, on); on += n
            t.set(out, tn); tn += n
            i = end
            textSpace = false
            backoff = 32
          } else if (backoff < 2048) {
            backoff *= 2 // text the kernel cannot take (references, whitespace runs): tried less often
          }
          retry = i + backoff
        }
        const start = i
        let l = 0
        while (i < to && (l = TEXT[buf[i]!]!) !== 0) { o[on++] = l; t[tn++] = l; i++ }
        if (i > start) textSpace = false
        if (i >= to) break
        const c = buf[i]!
        const k = SPACE[c]!
        if (k === WS) {
          if (!textSpace) { t[tn++] = 0x20; textSpace = true }
          state = TRIM_WS
        } else if (k !== CR) {
          if (c >= 0x20) break // `<`, `&`, a byte above 0x7f
          o[on++] = c
          if (!textSpace) { t[tn++] = 0x20; textSpace = true }
        }
        i++
      }
      this.#tn = tn
      this.#textSpace = textSpace
      this.#backoff = backoff
    } else {
      while (i < to) {
        if (state !== NORM) { // inside a body a whitespace run writes nothing
          while (i < to && SPACE[buf[i]!] !== 0) i++
          if (i >= to) break
          state = NORM
        }
        let l = 0
        while (i < to && (l = SCRIPT_TEXT[buf[i]!]!) !== 0) { o[on++] = l; i++ }
        if (i >= to) break
        const c = buf[i]!
        const k = SPACE[c]!
        if (k === WS) state = TRIM_WS
        else if (k !== CR) {
          if (c >= 0x20) break
          o[on++] = c
        }
        i++
      }
    }
    this.#on = on
    this.#state = state
    if (state !== SKIP_WS) this.#next = NORM
    return i
  }

  /// Tag-name bytes (TAG), as #step writes them: lower-cased to `nocomment` and remembered. Stops at
  /// whitespace, `>` and a `!` that opens a comment.
  #tagName (buf: Uint8Array, from: number, to: number): number {
    const o = this.#o
    const tag = this.#tag
    let on = this.#on
    let tagLen = this.#tagLen
    let i = from
    while (i < to) {
      const c = buf[i]!
      const k = NAME_STOP[c]!
      if (k !== 0) { if (k === CR) { i++; continue } break }
      if (c === 0x21 && tagLen === 0) break
      const l = LOWER[c]!
      o[on++] = l
      if (tagLen < STR_MAX) tag[tagLen++] = l
      i++
    }
    this.#on = on
    this.#tagLen = tagLen
    return i
  }

  /// Attribute-name bytes (TAG_ARG), as #step writes them: a space before the first, lower-cased to
  /// `nocomment` and remembered. Stops at whitespace, `=` and `>`.
  #attributeName (buf: Uint8Array, from: number, to: number): number {
    const o = this.#o
    const arg = this.#arg
    let on = this.#on
    let argLen = this.#argLen
    let i = from
    while (i < to) {
      const c = buf[i]!
      const k = ARG_STOP[c]!
      if (k !== 0) { if (k === CR) { i++; continue } break }
      if (argLen === 0) o[on++] = 0x20
      const l = LOWER[c]!
      o[on++] = l
      if (argLen < STR_MAX) arg[argLen++] = l
      i++
    }
    this.#on = on
    this.#argLen = argLen
    return i
  }

  /// Reference-name bytes (ENTITY), remembered up to STR_MAX; the `;` or other byte that ends the
  /// name goes through #entity.
  #entityName (buf: Uint8Array, from: number, to: number): number {
    const ent = this.#ent
    let entLen = this.#entLen
    let i = from
    while (i < to && entLen < STR_MAX && ENTITY_NAME[buf[i]!] !== 0) ent[entLen++] = buf[i++]!
    this.#entLen = entLen
    return i
  }

  /// A comment outside script and style bodies writes nothing up to its first `>` (#step's).
  #comment (buf: Uint8Array, from: number, to: number): number {
    const end = buf.subarray(from, to).indexOf(0x3e)
    return end < 0 ? to : from + end
  }

  /// Plain attribute-value bytes inline (printable ASCII but quotes, &, > and whitespace), as
  /// #attributeValue writes them. Stops where #attributeValue sees a data: URI begin.
  #plainValue (buf: Uint8Array, from: number, to: number): number {
    const o = this.#o
    const val = this.#val
    let on = this.#on
    let valLen = this.#valLen
    let i = from
    while (i < to) {
      const c = buf[i]!
      if (PLAIN_VALUE[c] === 0) break
      if ((valLen === 5 || valLen === 6) && isDataUri(val, valLen)) break
      o[on++] = LOWER[c]!
      if (valLen < STR_MAX) val[valLen++] = c
      i++
    }
    this.#on = on
    this.#valLen = valLen
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
        if (c === 0x23) { this.#num = 0; this.#big = undefined; this.#hex = false; this.#state = NUMREF; return 1 }
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
    if (isDataUri(this.#val, this.#valLen)) {
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
      const cp = entityCodePointOf(this.#ent, this.#entLen)
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

  /// The reference's value modulo 2^bits.
  #low (bits: number): number {
    return this.#big === undefined ? this.#num % 2 ** bits : Number(BigInt.asUintN(bits, this.#big))
  }

  #numeric (c: number): number {
    const toValue = this.#next === TAG_ARG_VAL
    if (this.#num === 0 && this.#big === undefined && (c === 0x78 || c === 0x58)) { this.#hex = true; return 1 }
    if (c === 0x3b) {
      if (toValue) this.#value(this.#low(8))
      if (this.#big === undefined && this.#num < 0x80) this.#out(lower(this.#num))
      else this.#codePoint(this.#low(16), false)
      this.#state = this.#next
      return 1
    }
    if (isDigit(c) || (this.#hex && isHex(c))) {
      const d = isDigit(c) ? c - 0x30 : (c | 0x20) - 0x61 + 10
      // Below 2^48 a double is exact and no int64 limit is near: the common case, without BigInt.
      if (this.#big === undefined) {
        if (this.#num < 2 ** 48) { this.#num = this.#num * (this.#hex ? 16 : 10) + d; return 1 }
        this.#big = BigInt(this.#num)
      }
      // int64 arithmetic as in libclamav: past its limits the low byte is written, the digit eaten.
      if (this.#hex && this.#big < INT64_MAX / 16n) this.#big *= 16n
      else if (this.#big < INT64_MAX / 10n) this.#big *= 10n
      else { this.#out(this.#low(8)); this.#state = this.#next; return 1 }
      const digit = BigInt(d)
      if (this.#big > INT64_MAX - digit) { this.#out(this.#low(8)); this.#state = this.#next; return 1 }
      this.#big += digit
      return 1
    }
    this.#out(this.#low(8)) // no ';': the value's low byte, as it is
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
export function normaliseHtml (bytes: Uint8Array): HtmlForms {
  const n = new HtmlNormaliser()
  const head = n.push(bytes)
  const nocomment = Buffer.from(head.nocomment) // copied: end() reuses the buffers
  const notags = Buffer.from(head.notags)
  const tail = n.end()
  const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.length)
  return { nocomment: plain(Buffer.concat([nocomment, tail.nocomment])), notags: plain(Buffer.concat([notags, tail.notags])) }
}
