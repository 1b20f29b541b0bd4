/// Where a sender list comes from: a file (read at start and on each refresh) or an http(s) URL
/// fetched on a schedule. A URL fetch sends If-Modified-Since with the last Last-Modified (304:
/// nothing to do) and checks the body against a SHA-256 sidecar (`<url>.sha256`, the hex digest
/// first on its line, as sha256sum writes it); a failed fetch, a bad digest or a list that does not
/// parse keeps the last good list, and the last good list is saved in the cache directory so a
/// restart with the server down still has it. node's fetch (undici) does the HTTP.
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseList, type SenderListSet } from './lists.js'
import type { Logger } from '../log.js'

export interface ListSourceSpec {
  readonly name: string
  readonly kind: 'allow' | 'block'
  /// A file path or an http(s):// URL.
  readonly source: string
}

export type FetchOutcome = 'updated' | 'not-modified' | 'kept'

const maxListBytes = 16 * 1024 * 1024

export class ListSource {
  readonly spec: ListSourceSpec
  readonly #target: SenderListSet
  readonly #cacheDir: string
  readonly #log: Logger | undefined
  #lastModified: string | undefined

  constructor (spec: ListSourceSpec, target: SenderListSet, cacheDir: string, log?: Logger) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(spec.name)) throw new Error(`spam.lists: name '${spec.name}' must be 1-64 letters, digits, _ . -`)
    this.spec = spec
    this.#target = target
    this.#cacheDir = cacheDir
    this.#log = log
  }

  get #isUrl (): boolean { return /^https?:\/\//i.test(this.spec.source) }
  get #cacheFile (): string { return join(this.#cacheDir, `list-${this.spec.name}.txt`) }

  /// Loads the list: the file, or for a URL the cached last good copy and then a fetch.
  async load (): Promise<FetchOutcome> {
    if (!this.#isUrl) {
      this.#apply(readFileSync(this.spec.source, 'utf8'))
      return 'updated'
    }
    try { this.#apply(readFileSync(this.#cacheFile, 'utf8')) } catch { /* no cached copy yet */ }
    return await this.refresh()
  }

  /// One scheduled refresh. Never throws: a failure is logged and the last good list stays.
  async refresh (): Promise<FetchOutcome> {
    if (!this.#isUrl) {
      try { this.#apply(readFileSync(this.spec.source, 'utf8')); return 'updated' } catch (err) { this.#warn(err); return 'kept' }
    }
    try {
      const headers: Record<string, string> = this.#lastModified === undefined ? {} : { 'if-modified-since': this.#lastModified }
      const res = await fetch(this.spec.source, { headers, signal: AbortSignal.timeout(30_000) })
      if (res.status === 304) { await res.body?.cancel(); return 'not-modified' }
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`)
      const body = Buffer.from(await res.arrayBuffer())
      if (body.length > maxListBytes) throw new Error(`list larger than ${maxListBytes} bytes`)
      const sidecar = await fetch(`${this.spec.source}.sha256`, { signal: AbortSignal.timeout(30_000) })
      if (sidecar.status !== 200) throw new Error(`digest ${this.spec.source}.sha256: HTTP ${sidecar.status}`)
      const want = /^[0-9a-f]{64}/i.exec((await sidecar.text()).trim())?.[0]?.toLowerCase()
      const got = createHash('sha256').update(body).digest('hex')
      if (want !== got) throw new Error(`SHA-256 mismatch (sidecar ${want ?? 'unreadable'}, body ${got})`)
      const text = body.toString('utf8')
      this.#apply(text)
      this.#lastModified = res.headers.get('last-modified') ?? undefined
      this.#save(text)
      return 'updated'
    } catch (err) {
      this.#warn(err)
      return 'kept'
    }
  }

  #apply (text: string): void {
    const parsed = parseList(text)
    if (parsed.bad.length > 0) this.#log?.warn({ list: this.spec.name, lines: parsed.bad }, 'spam list: lines that are neither an address nor a domain were skipped')
    this.#target.set(this.spec.name, this.spec.kind, parsed)
  }

  #save (text: string): void {
    try {
      mkdirSync(this.#cacheDir, { recursive: true, mode: 0o750 })
      const tmp = `${this.#cacheFile}.tmp`
      writeFileSync(tmp, text, { mode: 0o640 })
      renameSync(tmp, this.#cacheFile)
    } catch (err) { this.#warn(err) }
  }

  #warn (err: unknown): void {
    this.#log?.warn({ list: this.spec.name, source: this.spec.source, err: err instanceof Error ? err.message : String(err) }, 'spam list refresh failed; the last good list stays')
  }
}
