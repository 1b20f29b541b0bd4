/// Sender and domain allow and block lists. A list is text, one entry a line (`#` comments):
/// `user@example.org` names one address, `example.org` a domain and every subdomain of it. The
/// lists a node uses come from files and URLs (src/spam/list-source.ts); this module only holds
/// parsed lists and answers "is this sender listed", as rule hits the spam score adds up: a block
/// list hit scores `blockScore` (spam whatever else), an allow list hit `allowScore` (ham).
import type { RuleHit } from './rules.js'
import type { SenderLists } from './filter.js'
import { addressOf } from './message.js'

export interface ParsedList { readonly addresses: ReadonlySet<string>, readonly domains: ReadonlySet<string>, readonly entries: number }

/// Parses a list's text; lines that are neither an address nor a domain are reported, not fatal.
export function parseList (text: string): ParsedList & { readonly bad: readonly string[] } {
  const addresses = new Set<string>()
  const domains = new Set<string>()
  const bad: string[] = []
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*/, '').trim().toLowerCase()
    if (line === '') continue
    if (/^[^\s@]+@[a-z0-9.-]+\.[a-z0-9-]+$/.test(line)) addresses.add(line)
    else if (/^@?[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(line)) domains.add(line.replace(/^@/, ''))
    else if (bad.length < 10) bad.push(line)
  }
  return { addresses, domains, entries: addresses.size + domains.size, bad }
}

/// True when the address or its domain (or a parent domain) is on the list.
export function listed (list: ParsedList, address: string): boolean {
  if (address === '') return false
  if (list.addresses.has(address)) return true
  const labels = (address.split('@')[1] ?? address).split('.')
  for (let i = 0; i < labels.length - 1; i++) if (list.domains.has(labels.slice(i).join('.'))) return true
  return false
}

export interface ListScores { readonly blockScore: number, readonly allowScore: number }
export const defaultListScores: ListScores = { blockScore: 100, allowScore: -100 }

/// The lists in force; a source swaps in a newly fetched list with `set`.
export class SenderListSet implements SenderLists {
  readonly #lists = new Map<string, { readonly kind: 'allow' | 'block', list: ParsedList }>()
  readonly #scores: ListScores

  constructor (scores: ListScores = defaultListScores) { this.#scores = scores }

  set (name: string, kind: 'allow' | 'block', list: ParsedList): void { this.#lists.set(name, { kind, list }) }

  entries (name: string): number | undefined { return this.#lists.get(name)?.list.entries }

  /// Checks the envelope sender and the From address (spammers forge either; a block on either
  /// counts, an allow needs the envelope sender when there is one).
  check (sender: string, fromHeader: string): RuleHit[] {
    const from = addressOf(fromHeader)
    const hits: RuleHit[] = []
    for (const [name, { kind, list }] of this.#lists) {
      const hit = kind === 'block' ? listed(list, sender) || listed(list, from) : listed(list, sender !== '' ? sender : from)
      if (hit) hits.push({ name: `LIST_${kind.toUpperCase()}:${name}`, score: kind === 'block' ? this.#scores.blockScore : this.#scores.allowScore })
    }
    return hits
  }
}
