/// The normalised-HTML pass of an HTML layer (ClamAV's cli_scanhtml): each chunk the layer's stream
/// matches is normalised (htmlnorm.ts) and its two forms, `nocomment` and `notags`, are matched as
/// layers of their own with the target-0 and target-3 rules, in the same single pass over the layer.
/// ClamAV matches a page's raw bytes with target 0 only, and not at all when its type detector saw
/// an HTML marker in the first 1024 bytes (then the page is HTML from the start and libclamav skips
/// the raw scan: htmlMarkerInHead); it skips this pass for layers over
/// MaxHTMLNormalize (40 MB) and the `notags` form for layers over MaxHTMLNoTags (8 MB); the first form
/// that matches decides, `nocomment` before `notags` before `javascript`. `javascript` is the
/// scripts' normalised JavaScript (jsnorm.ts), which ClamAV matches twice, as HTML (targets 0, 3)
/// and as text (0, 7): here once with targets 0, 3 and 7, the same names in the same order (a rule
/// has one target); it is the only way target 7 reaches an HTML page.
import { HtmlNormaliser } from './htmlnorm.js'
import { JsNormaliser } from './jsnorm.js'
import { DerivedOutput, type DerivedPass, type OpenDerived } from './derived.js'

/// ClamAV's MaxHTMLNormalize and MaxHTMLNoTags defaults.
export const maxHtmlNormaliseBytes = 40 * 1024 * 1024
export const maxHtmlNoTagsBytes = 8 * 1024 * 1024

/// libclamav's built-in HTML markers (its type-1 file-type signatures: <html>, <head>, <iframe,
/// <img, <object, <script, <table in the cases it lists, <a … href; <%@ LANGUAGE = at offset 0),
/// looked for where its type detector looks: the first 1024 bytes.
const marker = /<(?:HTML>|Html>|html>|HEAD>|Head>|head>|IFRAME|iframe|IMG|Img|img|OBJECT|Object|object|SCRIPT|Script|script|TABLE|table)|<[Aa] [\s\S]*?[Hh][Rr](?:EF|ef)|^<%@ LANGUAGE =/

export function htmlMarkerInHead (head: Uint8Array): boolean {
  return marker.test(Buffer.from(head.buffer, head.byteOffset, Math.min(head.length, 1024)).toString('latin1'))
}

/// A page's three forms, whole (fresh arrays): for ext rules decided after the stream.
export interface PageForms {
  readonly nocomment: Uint8Array
  readonly notags: Uint8Array
  readonly javascript: Uint8Array
}

export function normalisePage (bytes: Uint8Array): PageForms {
  const js = new JsNormaliser()
  const n = new HtmlNormaliser(js)
  const parts: Buffer[][] = [[], [], []]
  const add = (f: { nocomment: Uint8Array, notags: Uint8Array }): void => {
    parts[0]!.push(Buffer.from(f.nocomment)); parts[1]!.push(Buffer.from(f.notags)); parts[2]!.push(Buffer.from(js.take()))
  }
  add(n.push(bytes))
  add(n.end())
  const [nocomment, notags, javascript] = parts.map(p => { const b = Buffer.concat(p); return new Uint8Array(b.buffer, b.byteOffset, b.length) }) as [Uint8Array, Uint8Array, Uint8Array]
  return { nocomment, notags, javascript }
}

type FormName = 'nocomment' | 'notags' | 'javascript'

export class HtmlPass implements DerivedPass {
  readonly #js: JsNormaliser | undefined
  readonly #normaliser: HtmlNormaliser
  /// The forms in the order they decide: nocomment, notags (pages up to MaxHTMLNoTags), javascript.
  readonly #outputs: Array<[FormName, DerivedOutput]> = []
  /// end() stopped at this form: its ext candidates are decided by ext() before the next forms.
  #deferredAt = -1

  /// `rawSize`: the layer's size (the forms' expected size); `buffered`: keep the forms for
  /// EOF-relative rules; `script`: opens the javascript form's stream (none: no javascript form).
  constructor (open: OpenDerived, rawSize: number, buffered: boolean, script?: { open: OpenDerived, buffered: boolean }) {
    this.#js = script === undefined ? undefined : new JsNormaliser()
    this.#normaliser = new HtmlNormaliser(this.#js)
    this.#outputs.push(['nocomment', new DerivedOutput(open, rawSize, buffered)])
    if (rawSize <= maxHtmlNoTagsBytes) this.#outputs.push(['notags', new DerivedOutput(open, rawSize, buffered)])
    if (script !== undefined) this.#outputs.push(['javascript', new DerivedOutput(script.open, rawSize, script.buffered)])
  }

  push (chunk: Uint8Array): void { this.#feed(this.#normaliser.push(chunk)) }

  #feed (forms: { nocomment: Uint8Array, notags: Uint8Array }): void {
    for (const [form, output] of this.#outputs) output.push(form === 'javascript' ? this.#js!.take() : forms[form])
  }

  end (): string[] {
    this.#feed(this.#normaliser.end())
    return this.#from(0, undefined)
  }

  /// The forms from index k on, each matched to its end; stops at the first with names, or at one
  /// whose ext candidates need bytes (without `raw`: deferred to ext()).
  #from (k: number, raw: Uint8Array | undefined): string[] {
    let rebuilt: PageForms | undefined
    for (; k < this.#outputs.length; k++) {
      const [form, output] = this.#outputs[k]!
      if (k !== this.#deferredAt) {
        const names = output.end()
        if (names.length > 0) return names
        if (!output.needsBytes) continue
        if (raw === undefined) { this.#deferredAt = k; return [] }
      }
      const names = output.ext(output.kept ?? (rebuilt ??= normalisePage(raw!))[form])
      if (names.length > 0) return names
    }
    return []
  }

  get needsBytes (): boolean { return this.#deferredAt >= 0 }

  /// Decides the ext candidates on the forms: kept, or rebuilt from the raw layer's bytes.
  ext (raw: Uint8Array): string[] {
    if (this.#deferredAt < 0) return []
    const k = this.#deferredAt
    const names = this.#from(k, raw)
    this.#deferredAt = -1
    return names
  }
}
