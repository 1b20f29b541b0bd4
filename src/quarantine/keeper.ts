/// The quarantine seam between policy and protocols: whether a service's blocked objects may be kept
/// (quarantine.enabled and quarantine.services; the profile's onThreat/onPolicy say whether a block
/// is "quarantine and block"), keeping one, and whether an object was released by an administrator
/// (`scanwall quarantine release`: its SHA-256 then passes for the profile's releaseHours). The
/// adapter asks `wants` before the scan so the body is kept past it (ScanService.scan's keepBody),
/// `released` before it answers a block, and `keep` once the decision is a quarantine block.
import type { Logger } from '../log.js'
import type { BodySource } from '../scan/body.js'
import type { ScanContext } from '../scan/input.js'
import type { Verdict } from '../engine/verdict.js'
import type { Decision } from '../policy/decide.js'
import type { QuarantineRef } from '../records/recorder.js'
import { errorMessage } from '../errors.js'
import type { QuarantineStore } from './store.js'

export interface QuarantineSettings {
  readonly nodeId: string
  /// Services whose blocked objects are kept; empty: every service.
  readonly services: readonly string[]
}

/// How stale the node's view of released objects may be (a release takes effect within this time).
export const releasedRefreshMs = 2000

export class Quarantine {
  readonly store: QuarantineStore
  readonly #settings: QuarantineSettings
  readonly #log: Logger

  constructor (store: QuarantineStore, settings: QuarantineSettings, log: Logger) {
    this.store = store
    this.#settings = settings
    this.#log = log
  }

  /// Applies the retention time now and then every `everyMs` (errors logged); returns the stop.
  startRetention (everyMs = 3_600_000): () => void {
    const run = (): void => {
      this.store.expire().then(n => { if (n > 0) this.#log.info({ expired: n }, 'quarantine retention applied') },
        (err: unknown) => { this.#log.error({ err: errorMessage(err) }, 'quarantine retention failed') })
    }
    run()
    const timer = setInterval(run, everyMs).unref()
    return () => { clearInterval(timer) }
  }

  wants (service: string): boolean {
    return this.#settings.services.length === 0 || this.#settings.services.includes(service)
  }

  /// A block the profile made "quarantine and block"; never a fail-closed block (no verdict on content).
  static quarantines (decision: Decision): decision is Extract<Decision, { action: 'block' }> {
    return decision.action === 'block' && decision.quarantine === true
  }

  #released: { readonly read: number, readonly hashes: ReadonlyMap<string, number> } | undefined

  /// The SHA-256 digests of released objects with their release times, read from the store's
  /// metadata at most every `released.refreshMs` (the CLI writes them; the node only reads).
  async #releasedHashes (now: number): Promise<ReadonlyMap<string, number>> {
    if (this.#released !== undefined && now - this.#released.read < releasedRefreshMs) return this.#released.hashes
    const hashes = new Map<string, number>()
    try {
      for (const e of await this.store.list()) if (e.released !== undefined) hashes.set(e.sha256, Date.parse(e.released))
    } catch (err) {
      this.#log.error({ err: errorMessage(err) }, 'cannot read released quarantine objects')
    }
    this.#released = { read: now, hashes }
    return hashes
  }

  /// Whether an administrator released an object with this SHA-256 within the last `hours`.
  async released (sha256: () => Promise<string>, hours: number, now = Date.now()): Promise<boolean> {
    if (hours <= 0) return false
    const hashes = await this.#releasedHashes(now)
    if (hashes.size === 0) return false
    const at = hashes.get(await sha256())
    return at !== undefined && now - at < hours * 3_600_000
  }

  /// Keeps the object when the decision calls for it; undefined when not kept (not a content block,
  /// over quarantine.maxObjectBytes, or the store failed: logged, the block stands).
  async keep (body: BodySource, verdict: Verdict, decision: Decision, ctx: ScanContext): Promise<QuarantineRef | undefined> {
    if (!Quarantine.quarantines(decision) || !this.wants(ctx.service)) return undefined
    const origin = {
      threat: decision.threat,
      reason: decision.reason,
      verdict: verdict.status,
      service: ctx.service,
      method: ctx.method ?? '',
      url: ctx.url ?? '',
      client: ctx.client ?? '',
      user: ctx.user ?? '',
      node: this.#settings.nodeId,
    }
    try {
      const entry = await this.store.put(body, origin)
      if (entry === undefined) {
        this.#log.warn({ size: body.size, threat: decision.threat, url: origin.url }, 'blocked object too large to quarantine')
        return undefined
      }
      this.#log.info({ id: entry.id, threat: entry.threat, url: entry.url, size: entry.size, sha256: entry.sha256 }, 'quarantined')
      return { id: entry.id, sha256: entry.sha256 }
    } catch (err) {
      this.#log.error({ err: errorMessage(err), threat: decision.threat }, 'quarantine failed; the object is blocked but not kept')
      return undefined
    }
  }
}
