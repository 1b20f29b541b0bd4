/// The normalised-HTML pass of an HTML layer (ClamAV's cli_scanhtml): each chunk the layer's stream
/// matches is normalised (htmlnorm.ts) and its two forms, `nocomment` and `notags`, are matched as
/// layers of their own with the target-0 and target-3 rules, in the same single pass over the layer.
/// ClamAV matches a page's raw bytes with target 0 only, and not at all when its type detector saw
/// an HTML marker in the first 1024 bytes (then the page is HTML from the start and libclamav skips
/// the raw scan: htmlMarkerInHead); it skips this pass for layers over
/// MaxHTMLNormalize (40 MB) and the `notags` form for layers over MaxHTMLNoTags (8 MB); the first form
/// that matches decides, `nocomment` before `notags`. Target 7 reaches HTML in ClamAV only through
/// the JS-normalised script output, which this pass does not produce.
import { HtmlNormaliser, normaliseHtml, type HtmlForms } from './htmlnorm.js'
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

export class HtmlPass implements DerivedPass {
  readonly #normaliser = new HtmlNormaliser()
  readonly #nocomment: DerivedOutput
  readonly #notags: DerivedOutput | undefined
  /// end() left `nocomment`'s ext candidates undecided: ext() decides them before `notags`.
  #deferred = false

  /// `rawSize`: the layer's size (the forms' expected size); `buffered`: keep the forms for
  /// EOF-relative rules.
  constructor (open: OpenDerived, rawSize: number, buffered: boolean) {
    this.#nocomment = new DerivedOutput(open, rawSize, buffered)
    this.#notags = rawSize > maxHtmlNoTagsBytes ? undefined : new DerivedOutput(open, rawSize, buffered)
  }

  push (chunk: Uint8Array): void { this.#feed(this.#normaliser.push(chunk)) }

  #feed (forms: HtmlForms): void {
    this.#nocomment.push(forms.nocomment)
    this.#notags?.push(forms.notags)
  }

  end (): string[] {
    this.#feed(this.#normaliser.end())
    const first = this.#nocomment.end()
    if (first.length > 0) return first
    if (this.#nocomment.needsBytes) { this.#deferred = true; return [] }
    return this.#notags?.end() ?? []
  }

  get needsBytes (): boolean { return this.#deferred || (this.#notags?.needsBytes ?? false) }

  /// Decides the ext candidates on the forms: kept, or rebuilt from the raw layer's bytes.
  ext (raw: Uint8Array): string[] {
    let rebuilt: HtmlForms | undefined
    const forms = (): HtmlForms => (rebuilt ??= normaliseHtml(raw))
    if (this.#deferred) {
      this.#deferred = false
      const names = this.#nocomment.ext(this.#nocomment.kept ?? forms().nocomment)
      if (names.length > 0 || this.#notags === undefined) return names
      const direct = this.#notags.end()
      if (direct.length > 0) return direct
    }
    if (this.#notags?.needsBytes !== true) return []
    return this.#notags.ext(this.#notags.kept ?? forms().notags)
  }
}
