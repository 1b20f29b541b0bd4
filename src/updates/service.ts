/// The node's signature updates: the schedule (a check every updates.intervalMs against the mirror,
/// or, in a cluster, against the fetcher node), the swap (the staged DB compiled on a background
/// thread and swapped between scans by ScanService.reload, zero failed transactions, the previous DB
/// kept for rollback), the watches (a freshclam-maintained signatures.dir when no mirror is set;
/// state.json, which `scanwall sigs update|rollback` change), and the version label every node
/// reports (cluster status, SNMP, logs). One check at a time; a failure keeps the running DB.
import { mkdir, open, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { parseCvdHeader } from '../engine/signatures/cvd.js'
import type { UpdateTrust } from './keys.js'
import { errorMessage } from '../errors.js'
import type { Logger } from '../log.js'
import { checkForUpdates, commitStaged, discardStaged, type CheckResult } from './updater.js'
import { DirSource, HttpSource, type UpdateSource } from './source.js'
import { PeerFileServer, PeerSource } from './peer.js'
import { UpdateStore } from './store.js'
import { watchDir, type DirWatch } from './watch.js'

export interface UpdatesOptions {
  /// http(s):// URL or a directory laid out like a private mirror; '' = no mirror.
  readonly mirror: string
  readonly layout: 'clamav' | 'manifest'
  readonly intervalMs: number
  readonly proxy: string
  readonly trust: UpdateTrust
  readonly databases: readonly string[]
  /// Watch signatures.dir when there is no mirror (a freshclam-maintained directory).
  readonly watch: boolean
  readonly debounceMs: number
  readonly timeoutMs: number
  readonly maxBytes: number
  readonly cacheDir: string
  readonly signaturesDir: string
}

/// Who fetches from the outside mirror: this node, a peer (its address and the version it runs), or
/// nobody yet (cluster membership not settled: wait rather than have every node hit the mirror).
export type FetcherRole = { readonly role: 'self' } | { readonly role: 'peer', readonly host: string, readonly version: string } | { readonly role: 'unknown' }

export interface UpdateHooks {
  readonly reload: (dir: string) => Promise<unknown>
  /// The loaded DB's content hash (the ISTag's source): the label when no container is loaded.
  readonly dbVersion: () => string
  readonly fetcher?: () => FetcherRole
  /// The cluster key and where peers serve files (cluster only).
  readonly peer?: { readonly key: Buffer, readonly host: string, readonly port: number }
}

/// "main:62 daily:27002" from the containers of a DB directory; undefined when it has none.
export async function labelOfDir (dir: string): Promise<string | undefined> {
  const parts: string[] = []
  for (const f of (await readdir(dir).catch(() => [] as string[])).sort()) {
    const m = /^(.+)\.c[lv]d$/.exec(f)
    if (m === null) continue
    const handle = await open(join(dir, f), 'r').catch(() => undefined)
    if (handle === undefined) continue
    try {
      const head = Buffer.alloc(512)
      await handle.read(head, 0, 512, 0)
      const h = parseCvdHeader(head)
      if (typeof h !== 'string') parts.push(`${m[1] ?? f}:${h.version}`)
    } finally {
      await handle.close()
    }
  }
  return parts.length === 0 ? undefined : parts.join(' ')
}

/// The DB directory a node starts with: the updater's current one when a mirror is configured and
/// one was installed, else signatures.dir.
export async function startingDir (options: Pick<UpdatesOptions, 'mirror' | 'cacheDir' | 'signaturesDir'>): Promise<string> {
  if (options.mirror === '') return options.signaturesDir
  const store = new UpdateStore(options.cacheDir)
  const state = await store.read()
  if (state.current === undefined) return options.signaturesDir
  const dir = store.dbDir(state.current)
  return (await readdir(dir).catch(() => undefined)) === undefined ? options.signaturesDir : dir
}

/// The outside mirror as a source.
export function mirrorSource (options: Pick<UpdatesOptions, 'mirror' | 'proxy' | 'timeoutMs' | 'maxBytes'>): UpdateSource {
  return /^https?:\/\//.test(options.mirror) ? new HttpSource(options.mirror, { proxy: options.proxy, timeoutMs: options.timeoutMs, maxBytes: options.maxBytes }) : new DirSource(options.mirror)
}

/// How often a non-fetcher compares its version with the fetcher's (both carried by heartbeats), so
/// the cluster converges within seconds of the fetcher's update, not one interval later.
const peerCompareMs = 1000
const peerRetryMs = 5000

export class UpdateService {
  readonly #options: UpdatesOptions
  readonly #hooks: UpdateHooks
  readonly #log: Logger
  readonly #store: UpdateStore
  #serving: string
  #label: string | undefined
  #running: Promise<void> = Promise.resolve()
  #busy = false
  #lastPeerAttempt = 0
  /// A check has run against a source (the start-up one may find no fetcher yet).
  #checked = false
  readonly #timers: NodeJS.Timeout[] = []
  readonly #watches: DirWatch[] = []
  #peerServer: PeerFileServer | undefined

  private constructor (options: UpdatesOptions, hooks: UpdateHooks, log: Logger, serving: string) {
    this.#options = options
    this.#hooks = hooks
    this.#log = log
    this.#store = new UpdateStore(options.cacheDir)
    this.#serving = serving
  }

  static async start (options: UpdatesOptions, hooks: UpdateHooks, serving: string, log: Logger): Promise<UpdateService> {
    await mkdir(options.cacheDir, { recursive: true })
    const service = new UpdateService(options, hooks, log, serving)
    service.#label = await labelOfDir(serving)
    if (hooks.peer !== undefined) service.#peerServer = await PeerFileServer.start(hooks.peer.host, hooks.peer.port, hooks.peer.key, service.#store, log)
    if (options.mirror !== '') {
      await mkdir(service.#store.root, { recursive: true })
      service.#watches.push(watchDir(service.#store.root, options.debounceMs, () => { service.#followState() }, n => n === 'state.json'))
      service.#every(options.intervalMs, () => { void service.check('schedule') })
      if (hooks.fetcher !== undefined && hooks.peer !== undefined) service.#every(peerCompareMs, () => { service.#compareWithFetcher() })
      void service.check('start')
    } else if (options.watch) {
      service.#watches.push(watchDir(options.signaturesDir, options.debounceMs, () => { service.#reloadWatched() }))
    }
    log.info({ mirror: options.mirror === '' ? undefined : options.mirror, intervalMs: options.intervalMs, watching: options.mirror === '' && options.watch ? options.signaturesDir : undefined, version: service.version, peerPort: service.#peerServer?.port }, 'signature updates ready')
    return service
  }

  /// What this node runs, as nodes compare it: container versions, else the DB's content hash.
  get version (): string { return this.#label ?? this.#hooks.dbVersion() }
  get store (): UpdateStore { return this.#store }
  get peerPort (): number | undefined { return this.#peerServer?.port }

  #every (ms: number, fn: () => void): void {
    const t = setInterval(fn, ms)
    t.unref()
    this.#timers.push(t)
  }

  #serialized (fn: () => Promise<void>): Promise<void> {
    const next = this.#running.then(fn, fn)
    this.#running = next.catch(() => {})
    return next
  }

  /// One update check now (queued behind one in progress). Never throws: outcomes are logged.
  check (reason: string): Promise<void> {
    return this.#serialized(async () => {
      this.#busy = true
      try { await this.#check(reason) } catch (err) {
        this.#log.error({ err: errorMessage(err), version: this.version }, 'signature update failed; keeping the loaded DB')
      } finally { this.#busy = false }
    })
  }

  #source (): UpdateSource | undefined {
    const fetcher = this.#hooks.fetcher?.() ?? { role: 'self' as const }
    if (fetcher.role === 'self') return mirrorSource(this.#options)
    if (fetcher.role === 'unknown' || this.#hooks.peer === undefined) return undefined
    return new PeerSource(fetcher.host, this.#hooks.peer.port, this.#hooks.peer.key, this.#options)
  }

  async #check (reason: string): Promise<void> {
    const source = this.#source()
    if (source === undefined) { this.#log.debug({ reason }, 'signature update check skipped: no fetcher known yet'); return }
    this.#checked = true
    await this.#store.locked(async () => {
      const result = await checkForUpdates(source, { databases: this.#options.databases, trust: this.#options.trust, localDir: this.#options.signaturesDir, store: this.#store, layout: this.#options.layout }, msg => { this.#log.warn({ source: source.name }, msg) })
      await this.#settle(result, source.name, reason)
    })
  }

  async #settle (result: CheckResult, source: string, reason: string): Promise<void> {
    switch (result.kind) {
      case 'cooldown':
        this.#log.warn({ source, until: new Date(result.until).toISOString(), err: result.reason }, 'signature update paused: the mirror asked for a cool-down')
        return
      case 'refused':
        this.#log.error({ source, err: result.reason, version: this.version }, 'signature update refused; keeping the loaded DB')
        return
      case 'current':
        this.#log.debug({ source, reason, version: this.version }, 'signatures are current')
        return
      case 'staged': {
        const started = performance.now()
        try {
          await this.#hooks.reload(result.dir)
        } catch (err) {
          await discardStaged(this.#store, result, errorMessage(err))
          this.#log.error({ source, err: errorMessage(err), version: this.version }, 'signature update did not load; keeping the loaded DB')
          return
        }
        const before = this.version
        await commitStaged(this.#store, result)
        this.#serving = result.dir
        this.#label = await labelOfDir(result.dir)
        this.#log.info({ source, reason, from: before, version: this.version, how: result.updates.map(u => `${u.db} ${u.from}→${u.version} by ${u.how}`).join(', '), ms: Math.round(performance.now() - started) }, 'signatures updated')
      }
    }
  }

  /// state.json changed (`scanwall sigs update` or `rollback`): run what it now names.
  #followState (): void {
    void this.#serialized(async () => {
      const state = await this.#store.read()
      if (state.current === undefined) return
      const dir = this.#store.dbDir(state.current)
      if (dir === this.#serving) return
      try {
        await this.#hooks.reload(dir)
        this.#serving = dir
        this.#label = await labelOfDir(dir)
        this.#log.info({ version: this.version, dir }, 'signatures switched to the DB named in state.json')
      } catch (err) {
        this.#log.error({ err: errorMessage(err), dir, version: this.version }, 'the DB named in state.json did not load; keeping the loaded DB')
      }
    })
  }

  /// signatures.dir changed (freshclam): reload it, no SIGHUP needed.
  #reloadWatched (): void {
    void this.#serialized(async () => {
      try {
        await this.#hooks.reload(this.#options.signaturesDir)
        this.#label = await labelOfDir(this.#options.signaturesDir)
        this.#log.info({ dir: this.#options.signaturesDir, version: this.version }, 'signature directory changed: reloaded')
      } catch (err) {
        // Often a file caught mid-write: the write that completes it is another change.
        this.#log.warn({ dir: this.#options.signaturesDir, err: errorMessage(err), version: this.version }, 'signature directory changed but does not load (yet); keeping the loaded DB')
      }
    })
  }

  #compareWithFetcher (): void {
    const fetcher = this.#hooks.fetcher?.()
    if (fetcher === undefined || fetcher.role === 'unknown' || this.#busy) return
    // The fetcher's first check waits for membership to settle; a peer follows the fetcher's version.
    if (fetcher.role === 'self' ? this.#checked : fetcher.version === this.version) return
    if (Date.now() - this.#lastPeerAttempt < peerRetryMs) return
    this.#lastPeerAttempt = Date.now()
    void this.check(fetcher.role === 'self' ? 'elected fetcher' : `fetcher runs ${fetcher.version}`)
  }

  async stop (): Promise<void> {
    for (const t of this.#timers) clearInterval(t)
    for (const w of this.#watches) w.close()
    await this.#running
    await this.#peerServer?.close()
  }
}
