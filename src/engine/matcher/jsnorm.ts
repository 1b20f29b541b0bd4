/// ClamAV's normalised JavaScript, the `javascript` form of an HTML page (libclamav 1.4
/// jsparse/js-norm.c, learnt by reading it and checked against clamscan 1.4.6's temp files): each
/// script body is tokenized (js-lexer.ts), identifiers declared with `var`, as function names or as
/// parameters are renamed n000, n001, … per script by the scope they are declared in (a use before
/// the declaration too, as libclamav decides names after the whole script), member names after a
/// `.` are kept, `"a"+"b"` is folded into one string, `unescape("…")`, `eval("…")`, the dF() encoder
/// and Dean Edwards' packer are decoded and their output tokenized in place (js-decoders.ts); the
/// tokens are written lower-case with a space only between two alphanumeric bytes, strings in `"`
/// with their whitespace as spaces, each script as `<script>…</script>`, scripts one per line.
/// Memory: a script's tokens are kept until its end (names need the whole script), at most
/// maxTokens; past that the tokens so far are decoded and written as they are known (a deviation
/// only on scripts of a million tokens and more). Time: linear in the script, decoders included
/// (their nesting is bounded at 16, as in libclamav).
import { JsLexer, Tok } from './js-lexer.js'
import { runDecoders, runFolders, type Token } from './js-decoders.js'

export type { Token }

const enum Fsm { Base, InsideVar, InsideInitializer, WaitFunctionName, WaitParameterList, InsideFunctionDecl }

/// One function's scope (the global one has no parent): names to their ids, -1 for used-not-declared.
export class Scope {
  names: Map<string, number> | undefined
  fsm = Fsm.Base
  lastToken = Tok.End
  brackets = 0
  blocks = 0
  constructor (readonly parent: Scope | null) {}
}

export const maxTokens = 1 << 20
const BUF = 65536 // libclamav's output buffer: where it ends decides whether </script> is added

const isAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a)
/// What #outs writes for each byte: whitespace as a space, ASCII upper case lowered.
const OUT = new Uint8Array(256)
for (let c = 0; c < 256; c++) OUT[c] = c === 0x20 || (c >= 0x09 && c <= 0x0d) ? 0x20 : c >= 0x41 && c <= 0x5a ? c | 0x20 : c
/// n000, n001, …: the renamed identifiers' text, made once per id (the first 4096 kept).
const renamed: string[] = []
function renamedName (id: number): string {
  const known = renamed[id]
  if (known !== undefined) return known
  const name = `n${String(id).padStart(3, '0')}`
  if (id < 4096) renamed[id] = name
  return name
}

/// C's printf("%g").
function formatG (x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf'
  if (x === 0) return Object.is(x, -0) ? '-0' : '0'
  if (Number.isInteger(x) && x < 1e6 && x > -1e6) return String(x) // six digits at most: %g writes them as they are
  if (x >= 1e-4 || x <= -1e-4) {
    // Fixed notation in both C's %g and toPrecision(6) (same rounding) unless it rounds up to 1e6.
    const fixed = x.toPrecision(6)
    if (!fixed.includes('e')) {
      let end = fixed.length
      while (fixed.charCodeAt(end - 1) === 0x30) end--
      if (fixed.charCodeAt(end - 1) === 0x2e) end--
      return fixed.slice(0, end)
    }
  }
  const [mant, exp] = x.toExponential(5).split('e') as [string, string]
  const e = Number(exp)
  const trim = (s: string): string => s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s
  if (e < -4 || e >= 6) return `${trim(mant)}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`
  return trim(x.toFixed(5 - e))
}

export class JsNormaliser {
  #lexer = new JsLexer()
  #global = new Scope(null)
  current = this.#global
  #tokens: Token[] = []
  #uniq = 0
  rec = 0
  #out = new Uint8Array(1024)
  #on = 0
  #pos = 0 // libclamav's output-buffer position, for the </script> rule
  #last = 0
  #outScope = this.#global
  #scripts = 0
  #inScript = false
  /// The last bytes written before the last take(), for the </script> rule.
  #tail = ''
  #scratch = new Uint8Array(0)

  get tokens (): Token[] { return this.#tokens }
  set tokens (t: Token[]) { this.#tokens = t }

  /// A new script starts (libclamav's cli_js_init): fresh names, scopes and tokenizer.
  begin (): void {
    if (this.#inScript) this.end()
    this.#lexer = new JsLexer()
    this.#global = this.current = this.#outScope = new Scope(null)
    this.#tokens = []
    this.#uniq = 0
    this.rec = 0
    this.#inScript = true
    this.#pos = 0
    this.#last = 0
    if (this.#scripts++ > 0) this.#outc(0x0a)
    this.#outs('<script>')
  }

  get inScript (): boolean { return this.#inScript }

  /// The next piece of the script's text, buf[from, to) of one of libclamav's HTML reads: its NULs
  /// dropped and, past `body` (the read's leading whitespace), newlines read as spaces, as libclamav's
  /// HTML reader leaves its buffer before handing it over.
  feed (buf: Uint8Array, from: number, to: number, body = from): void {
    if (!this.#inScript || to <= from) return
    if (this.#scratch.length < to - from) this.#scratch = new Uint8Array(to - from)
    const piece = this.#scratch
    let n = 0
    for (let i = from; i < to; i++) {
      const c = buf[i]!
      if (c === 0) continue
      piece[n++] = c === 0x0a && i >= body ? 0x20 : c
    }
    this.process(piece, 0, n)
    if (this.rec === 0 && this.#tokens.length >= maxTokens) this.#flush()
  }

  /// The script ended (its end tag, the page's end): close it, decode, write it out.
  end (): void {
    if (!this.#inScript) return
    const quote = this.#lexer.openQuote
    if (quote !== 0) this.process(Uint8Array.of(quote), 0, 1)
    let open = 0
    for (const t of this.#tokens) {
      if (t.type === Tok.ParOpen) open++
      else if (t.type === Tok.ParClose && open > 0) open--
    }
    for (; open > 0; open--) this.#tokens.push({ type: Tok.ParClose, s: ')', n: 0, scope: undefined })
    this.#flush()
    if (this.#pos < 9 || !this.#endsWith('</script>')) this.#outs('</script>')
    this.#inScript = false
  }

  /// The normalised bytes written since the last take (a view, valid until the next call).
  take (): Uint8Array {
    const bytes = this.#out.subarray(0, this.#on)
    this.#tail = (this.#tail + String.fromCharCode(...bytes.subarray(Math.max(0, bytes.length - 9)))).slice(-9)
    this.#on = 0
    return bytes
  }

  #flush (): void {
    runFolders(this.#tokens)
    runDecoders(this)
    this.#write(this.#tokens)
    this.#tokens = []
  }

  /// libclamav's cli_js_process_buffer: tokens of a piece, scopes tracked as they go.
  process (buf: Uint8Array, from: number, to: number): void {
    const lex = this.#lexer
    lex.scan(buf, from, to)
    let current = this.current
    for (;;) {
      const type = lex.next()
      if (type === Tok.End) break
      const tok: Token = { type, s: lex.text, n: lex.value, scope: undefined }
      switch (type as number) {
        case Tok.Var: current.fsm = Fsm.InsideVar; break
        case Tok.Ident:
          if (current.lastToken === Tok.Dot) { tok.type = Tok.Unnorm; break }
          switch (current.fsm as number) {
            case Fsm.Base: case Fsm.InsideInitializer: case Fsm.WaitParameterList:
              this.#use(current, lex.text); break
            case Fsm.InsideVar: case Fsm.InsideFunctionDecl:
              this.#declare(current, lex.text); current.fsm = Fsm.InsideInitializer; current.brackets = 0; break
            default: // WaitFunctionName
              this.#declare(current, lex.text); current.fsm = Fsm.WaitParameterList
          }
          break
        case Tok.ParOpen:
          if (current.fsm === Fsm.WaitFunctionName || current.fsm === Fsm.WaitParameterList) current.fsm = Fsm.InsideFunctionDecl
          break
        case Tok.ParClose:
          if (current.fsm === Fsm.WaitParameterList) current.fsm = Fsm.Base
          break
        case Tok.CurlyOpen:
          if (current.fsm === Fsm.WaitFunctionName || current.fsm === Fsm.WaitParameterList || current.fsm === Fsm.InsideFunctionDecl) current.fsm = Fsm.Base
          current.blocks++
          break
        case Tok.CurlyClose:
          if (current.blocks > 0) current.blocks--
          if (current.blocks === 0 && current.parent !== null) {
            this.#tokens.push(tok)
            this.current = current = current.parent
            current.lastToken = type
            this.#tokens.push({ type: Tok.Function, s: '}', n: 0, scope: null }) // marks the function's end
            continue
          }
          break
        case Tok.BracketOpen: current.brackets++; break
        case Tok.BracketClose: if (current.brackets > 0) current.brackets--; break
        case Tok.Comma:
          if (current.fsm === Fsm.InsideInitializer && current.brackets === 0 && current.blocks === 0) current.fsm = Fsm.InsideVar
          break
        case Tok.Semicolon:
          if (current.brackets === 0 && current.blocks === 0) current.fsm = Fsm.Base
          break
        case Tok.Function:
          this.current = current = new Scope(current)
          current.fsm = Fsm.WaitFunctionName
          tok.scope = current
          break
        case Tok.Str: {
          const t = this.#tokens
          const n = t.length
          if (n > 1 && t[n - 1]!.type === Tok.Plus && t[n - 2]!.type === Tok.Str) {
            t.pop()
            t[n - 2]!.s = (t[n - 2]!.s ?? '') + lex.text
            continue
          }
          break
        }
      }
      this.#tokens.push(tok)
      current.lastToken = type
    }
  }

  #use (scope: Scope, name: string): void {
    scope.names ??= new Map()
    if (!scope.names.has(name)) scope.names.set(name, -1)
  }

  #declare (scope: Scope, name: string): void {
    (scope.names ??= new Map()).set(name, this.#uniq++)
  }

  #lookup (scope: Scope | null, name: string): number {
    for (; scope !== null; scope = scope.parent) {
      const id = scope.names?.get(name)
      if (id !== undefined && id !== -1) return id
    }
    return -1
  }

  /// libclamav's cli_js_output for these tokens.
  #write (tokens: readonly Token[]): void {
    let last = this.#last
    let scope = this.#outScope
    for (const t of tokens) {
      if (t.type === Tok.Function) {
        if (t.scope !== null && t.scope !== undefined) scope = t.scope
        else { if (scope.parent !== null) scope = scope.parent; continue }
      }
      switch (t.type as number) {
        case Tok.Str:
          this.#outc(0x22); if (t.s !== null) this.#outs(t.s); this.#outc(0x22)
          last = 0x22
          break
        case Tok.Int: case Tok.Float:
          if (isAlnum(last)) this.#outc(0x20)
          this.#outs(t.type === Tok.Int ? String(t.n) : formatG(t.n))
          last = 0x30
          break
        case Tok.Ident:
          if (isAlnum(last)) this.#outc(0x20)
          if (t.s !== null) {
            const id = this.#lookup(scope, t.s)
            this.#outs(id < 0 ? t.s : renamedName(id))
          }
          last = 0x61
          break
        case Tok.Function:
          if (isAlnum(last)) this.#outc(0x20)
          this.#outs('function')
          last = 0x61
          break
        default:
          if (t.s === null || t.s.length === 0) { last = 0; break }
          if (isAlnum(last) && isAlnum(t.s.charCodeAt(0))) this.#outc(0x20)
          this.#outs(t.s)
          last = t.s.charCodeAt(t.s.length - 1)
      }
    }
    this.#last = last
    this.#outScope = scope
  }

  #reserve (n: number): void {
    if (this.#on + n <= this.#out.length) return
    const grown = new Uint8Array(Math.max(this.#out.length * 2, this.#on + n))
    grown.set(this.#out.subarray(0, this.#on))
    this.#out = grown
  }

  #outc (c: number): void {
    this.#reserve(1)
    if (this.#pos >= BUF) this.#pos = 0
    this.#pos++
    this.#out[this.#on++] = c
  }

  /// A string as libclamav writes it: whitespace as spaces, ASCII lower-cased.
  #outs (s: string): void {
    this.#reserve(s.length)
    const o = this.#out
    let on = this.#on
    let pos = this.#pos
    for (let i = 0; i < s.length; i++) o[on++] = OUT[s.charCodeAt(i) & 0xff]!
    // As a byte at a time would: wrapping at BUF, but not from past it (#outc can leave it at BUF).
    pos = pos >= BUF ? pos + s.length : (pos + s.length) % BUF
    this.#on = on
    this.#pos = pos
  }

  #endsWith (s: string): boolean {
    const recent = this.#tail + String.fromCharCode(...this.#out.subarray(Math.max(0, this.#on - s.length), this.#on))
    return recent.endsWith(s)
  }
}
