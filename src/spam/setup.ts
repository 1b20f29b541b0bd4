/// Builds the mail filters from configuration: the spam filter (shipped rules plus spam.rulesFile,
/// the shared Bayes model from the decision database refreshed every spam.modelRefreshSeconds,
/// sender lists refreshed every spam.listRefreshSeconds, DNS blocklists) and the content filter
/// (contentFilter.rules plus its rulesFile). A bad rule, list or file fails the start with one line
/// naming the key. The node keeps the result; the milter adapter and the ICAP handler use it.
import { readFileSync } from 'node:fs'
import { ScanwallError, errorMessage } from '../errors.js'
import type { Logger } from '../log.js'
import type { StoreSettings } from '../records/open.js'
import { ContentFilter } from '../content-filter/filter.js'
import type { ContentRuleSpec } from '../content-filter/rules.js'
import { SpamFilter, defaultSpamProfile, type SpamProfile } from './filter.js'
import { RuleSet, type RuleSpec } from './rules.js'
import { defaultRules } from './rules/default.js'
import { Learner } from './learner.js'
import { SenderListSet } from './lists.js'
import { ListSource, type ListSourceSpec } from './list-source.js'
import { Dnsbl, type DnsblZone } from './dnsbl.js'
import { openSpamStore } from './store/open.js'
import type { SpamStore } from './store/store.js'
import { MailResults } from './results.js'
import type { UploadCheck } from '../content-filter/upload.js'

export interface SpamSettings {
  readonly enabled: boolean
  readonly rulesFile: string
  readonly suspectScore: number
  readonly spamScore: number
  readonly spamAction: 'reject' | 'quarantine' | 'discard'
  readonly subjectTag: string
  readonly profiles: readonly unknown[]
  readonly lists: readonly unknown[]
  readonly listRefreshSeconds: number
  readonly listCacheDir: string
  readonly dnsbl: readonly unknown[]
  readonly dnsServers: readonly string[]
  readonly dnsTimeoutMs: number
  readonly dnsNegativeTtlSeconds: number
  readonly modelRefreshSeconds: number
}

export interface ContentFilterConfig { readonly enabled: boolean, readonly rules: readonly unknown[], readonly rulesFile: string, readonly icap: boolean }

const invalid = (key: string, err: unknown): ScanwallError => new ScanwallError('CONFIG_INVALID', `${key}: ${errorMessage(err)}`)

function readJsonList (key: string, file: string): unknown[] {
  if (file === '') return []
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'))
    if (!Array.isArray(value)) throw new Error('the file must hold a JSON list')
    return value
  } catch (err) {
    throw invalid(key, err)
  }
}

/// The shipped rules with the operator's: a rule of the same name replaces the shipped one.
export function spamRules (rulesFile: string): RuleSet {
  const own = readJsonList('spam.rulesFile', rulesFile) as RuleSpec[]
  const names = new Set(own.map(r => r.name))
  try {
    return new RuleSet([...defaultRules.filter(r => !names.has(r.name)), ...own])
  } catch (err) {
    throw invalid('spam.rulesFile', err)
  }
}

export function contentFilterOf (config: ContentFilterConfig): ContentFilter | undefined {
  if (!config.enabled) return undefined
  const rules = [...config.rules, ...readJsonList('contentFilter.rulesFile', config.rulesFile)] as ContentRuleSpec[]
  try {
    return new ContentFilter({ rules })
  } catch (err) {
    throw invalid('contentFilter.rules', err)
  }
}

export interface MailFilters {
  readonly spam: SpamFilter | undefined
  /// Profiles by name; 'default' is always there.
  readonly profiles: ReadonlyMap<string, SpamProfile>
  readonly learner: Learner | undefined
  readonly content: ContentFilter | undefined
  /// Where the adapters record each filtered mail (rules that hit, action).
  readonly results: MailResults | undefined
  stop (): Promise<void>
}

export async function startMailFilters (spam: SpamSettings, content: ContentFilterConfig, stats: StoreSettings, nodeId: string, log: Logger): Promise<MailFilters> {
  const contentFilter = contentFilterOf(content)
  const profiles = new Map<string, SpamProfile>([['default', { ...defaultSpamProfile, suspectScore: spam.suspectScore, spamScore: spam.spamScore, spamAction: spam.spamAction, subjectTag: spam.subjectTag }]])
  for (const p of spam.profiles as SpamProfile[]) profiles.set(p.name, { ...p, subjectTag: p.subjectTag ?? '' })
  if (!spam.enabled) {
    let store: SpamStore | undefined
    if (contentFilter !== undefined) store = await openSpamStore(stats)
    const results = store === undefined ? undefined : new MailResults(store, nodeId, log)
    return { spam: undefined, profiles, learner: undefined, content: contentFilter, results, async stop () { await results?.close(); await store?.close() } }
  }
  const rules = spamRules(spam.rulesFile)
  const store = await openSpamStore(stats)
  const learner = new Learner(store)
  const timers: NodeJS.Timeout[] = []
  try {
    const tokens = await learner.refresh()
    const lists = new SenderListSet()
    const sources = (spam.lists as ListSourceSpec[]).map(spec => new ListSource(spec, lists, spam.listCacheDir, log))
    for (const source of sources) {
      try {
        await source.load()
      } catch (err) {
        throw invalid(`spam.lists (${source.spec.name})`, err)
      }
    }
    const dnsbl = spam.dnsbl.length === 0 ? undefined : new Dnsbl({ zones: spam.dnsbl as DnsblZone[], servers: spam.dnsServers, timeoutMs: spam.dnsTimeoutMs, negativeTtlSeconds: spam.dnsNegativeTtlSeconds })
    const filter = new SpamFilter({ rules, model: learner.model, senderLists: lists, ...(dnsbl === undefined ? {} : { addressLists: dnsbl }) })
    timers.push(setInterval(() => { learner.refresh().catch((err: unknown) => { log.warn({ err: errorMessage(err) }, 'spam model refresh failed') }) }, spam.modelRefreshSeconds * 1000).unref())
    if (sources.length > 0) timers.push(setInterval(() => { for (const s of sources) void s.refresh() }, spam.listRefreshSeconds * 1000).unref())
    log.info({ rules: rules.size, tokens, spamMessages: learner.model.spamMessages, hamMessages: learner.model.hamMessages, lists: sources.length, dnsbl: spam.dnsbl.length, store: store.name }, 'spam filter ready')
    const results = new MailResults(store, nodeId, log)
    return {
      spam: filter,
      profiles,
      learner,
      content: contentFilter,
      results,
      async stop () {
        for (const t of timers) clearInterval(t)
        await results.close()
        await store.close()
      },
    }
  } catch (err) {
    await store.close()
    throw err
  }
}

/// The ICAP side of the content filter: every hit on an upload is logged and recorded.
export function uploadCheck (mail: MailFilters, log: Logger): UploadCheck | undefined {
  const filter = mail.content
  if (filter === undefined) return undefined
  return {
    filter,
    onHit (result, context) {
      const rules = result.hits.map(h => h.rule)
      log.info({ action: result.action, rules, client: context.client, url: context.url }, 'content rule hit on an upload')
      mail.results?.record({ direction: 'out', client: context.client ?? '', sender: context.user ?? context.client ?? '', recipients: context.url ?? '', subject: '', score: 0, verdict: 'hit', action: result.action, rules: rules.map(name => ({ name, score: 1 })) })
    },
  }
}
