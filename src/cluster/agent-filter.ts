/// The agent's writer to its kernel filter (agent.ts): one change in flight at a time. A change asked
/// for while another is being applied is not queued; the agent is asked to reconcile again when the
/// first is done, so the filter always moves to the newest desired ownership. While a change is in
/// flight the agent claims its buckets too (`claims`): a bucket being taken is claimed from the
/// moment the kernel could accept it, so no peer takes it in that gap.
import type { OwnershipSink } from './types.js'
import type { Logger } from '../log.js'

export interface FilterHooks {
  /// The filter now accepts exactly `list` (the agent emits it and beats at once).
  applied (list: readonly number[]): void
  /// A change was asked for while one was in flight: reconcile again.
  again (): void
}

export class FilterWriter {
  readonly #sink: OwnershipSink
  readonly #hooks: FilterHooks
  readonly #log: Logger
  readonly #cluster: string
  #owned = new Set<number>()
  #applying: Promise<void> | undefined
  /// The ownership being applied to the filter right now.
  #pending: Set<number> | undefined
  #dirty = false

  constructor (sink: OwnershipSink, hooks: FilterHooks, log: Logger, cluster: string) {
    this.#sink = sink
    this.#hooks = hooks
    this.#log = log
    this.#cluster = cluster
  }

  /// What the filter accepts now.
  get owned (): ReadonlySet<number> { return this.#owned }

  /// What the filter accepts now or may accept once the change in flight is applied.
  get claims (): ReadonlySet<number> { return this.#pending === undefined ? this.#owned : new Set([...this.#owned, ...this.#pending]) }

  /// The filter lost everything behind our back (its nft process died): start from nothing.
  lost (): void { this.#owned = new Set() }

  apply (next: Set<number>): void {
    if (this.#applying !== undefined) {
      this.#dirty = true
      return
    }
    const list = [...next].sort((a, b) => a - b)
    this.#pending = next
    const started = performance.now()
    this.#applying = this.#sink.apply(list).then(() => {
      const gained = list.filter(b => !this.#owned.has(b)).length
      const released = [...this.#owned].filter(b => !next.has(b)).length
      this.#log.info({ cluster: this.#cluster, gained, released, owned: list.length, applyMs: Math.round(performance.now() - started) }, 'bucket filter applied')
      this.#owned = next
      this.#hooks.applied(list)
    }, (err: unknown) => {
      this.#log.error({ err, cluster: this.#cluster }, 'applying the bucket filter failed')
    }).finally(() => {
      this.#applying = undefined
      this.#pending = undefined
      if (this.#dirty) {
        this.#dirty = false
        this.#hooks.again()
      }
    })
  }

  /// Waits for the change in flight, then releases every bucket (leaving the cluster).
  async releaseAll (): Promise<void> {
    await this.#applying
    await this.#sink.apply([]).catch(() => {})
    this.#owned = new Set()
  }
}
