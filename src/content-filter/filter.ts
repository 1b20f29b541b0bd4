/// The outgoing content filter's one entry point: `ContentFilter.check(object, context)` reads the
/// text of every layer (src/content-filter/text-layers.ts), runs every rule on it, and answers with
/// the rules that hit (where, how often), the strongest action, and the notifications to send,
/// rendered from templates. The milter adapter calls it for mail from our networks or
/// authenticated senders; the ICAP handler for REQMOD uploads (docs/spam.md).
import { compileContentRule, stronger, type CompiledContentRule, type ContentAction, type ContentRuleSpec, type NotifyWho } from './rules.js'
import { defaultTemplates, renderTemplate, type Template } from './templates.js'
import { contentLimits, textLayers, type TextLayer } from './text-layers.js'
import type { ScanLimits } from '../engine/budget.js'

export interface ContentContext {
  /// 'mail' (a whole RFC 5322 message) or 'upload' (an HTTP request body).
  readonly kind: 'mail' | 'upload'
  readonly sender?: string
  readonly recipients?: readonly string[]
  readonly subject?: string
  /// For uploads: the URL it went to.
  readonly url?: string
  readonly name?: string
}

export interface ContentHit { readonly rule: string, readonly action: ContentAction, readonly matches: number, readonly where: string }

export interface Notification { readonly to: NotifyWho, readonly rule: string, readonly subject: string, readonly body: string }

export interface ContentResult {
  /// The strongest action of the rules that hit; 'pass' when none did.
  readonly action: ContentAction | 'pass'
  readonly hits: readonly ContentHit[]
  readonly notifications: readonly Notification[]
  /// Layers read (for the log and tests).
  readonly layers: number
}

export interface ContentFilterSettings {
  readonly rules: readonly ContentRuleSpec[]
  readonly templates?: Readonly<Record<string, Template>>
  readonly limits?: ScanLimits
}

export class ContentFilter {
  readonly #rules: readonly CompiledContentRule[]
  readonly #templates: Readonly<Record<string, Template>>
  readonly #limits: ScanLimits

  /// Throws (naming the rule) on a bad rule or a template a rule names that does not exist.
  constructor (settings: ContentFilterSettings) {
    const names = new Set<string>()
    this.#rules = settings.rules.map(spec => {
      if (names.has(spec.name)) throw new Error(`content rule ${spec.name}: defined twice`)
      names.add(spec.name)
      return compileContentRule(spec)
    })
    this.#templates = { ...defaultTemplates, ...settings.templates }
    for (const r of this.#rules) {
      const t = r.spec.template ?? r.spec.action
      if (this.#templates[t] === undefined) throw new Error(`content rule ${r.spec.name}: no template '${t}'`)
    }
    this.#limits = settings.limits ?? contentLimits
  }

  get size (): number { return this.#rules.length }

  async check (object: Uint8Array, context: ContentContext, signal?: AbortSignal): Promise<ContentResult> {
    if (this.#rules.length === 0) return { action: 'pass', hits: [], notifications: [], layers: 0 }
    const layers = await textLayers(object, context.name ?? (context.kind === 'mail' ? 'message' : 'upload'), this.#limits, signal)
    return this.checkLayers(layers, context)
  }

  /// The rules over text layers already extracted.
  checkLayers (layers: readonly TextLayer[], context: ContentContext): ContentResult {
    const hits: ContentHit[] = []
    for (const rule of this.#rules) {
      const min = rule.spec.minMatches ?? 1
      let matches = 0
      let where = ''
      for (const layer of layers) {
        const n = rule.count(layer.text)
        if (n > 0 && where === '') where = layer.path
        matches += n
        if (matches >= min) break
      }
      if (matches >= min) hits.push({ rule: rule.spec.name, action: rule.spec.action, matches, where })
    }
    let action: ContentAction | 'pass' = 'pass'
    for (const h of hits) action = action === 'pass' ? h.action : stronger(action, h.action)
    return { action, hits, notifications: this.#notifications(hits, context), layers: layers.length }
  }

  #notifications (hits: readonly ContentHit[], context: ContentContext): Notification[] {
    const out: Notification[] = []
    for (const hit of hits) {
      const rule = this.#rules.find(r => r.spec.name === hit.rule)
      const template = this.#templates[rule?.spec.template ?? hit.action]
      if (rule === undefined || template === undefined) continue
      const fields = {
        rule: hit.rule,
        action: hit.action,
        where: hit.where,
        sender: context.sender ?? '',
        recipients: (context.recipients ?? []).join(', '),
        subject: context.subject ?? context.url ?? '',
        time: new Date().toISOString(),
      }
      for (const to of rule.spec.notify ?? []) out.push({ to, rule: hit.rule, ...renderTemplate(template, fields) })
    }
    return out
  }
}
