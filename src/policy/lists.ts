/// URL and domain lists (a profile's allowList / denyList): a text file, one entry a line, `#`
/// comments. `example.com` (or `.example.com`, `*.example.com`) matches that host and every host
/// under it; an entry with a path (`example.com/downloads/`, scheme optional) matches URLs on that
/// host (and its subdomains) whose path starts with it. Lookups cost one hash probe per label of
/// the host (a 1,000,000-entry list: docs/policy.md has the measured rate); the file is re-read when
/// it changes (watched through its directory, so an editor's or rsync's rename counts) and a file
/// that cannot be read keeps the entries it had, with the error logged. Written here: the npm
/// domain-list packages are public-suffix parsers, not lookups in an operator's large list.
import { readFileSync, watch, type FSWatcher } from 'node:fs'
import { basename, dirname } from 'node:path'
import type { Logger } from '../log.js'
import { errorMessage } from '../errors.js'

interface Entries {
  readonly domains: ReadonlySet<string>
  /// host → path prefixes on it (and its subdomains).
  readonly paths: ReadonlyMap<string, readonly string[]>
  readonly count: number
}

export function parseList (text: string): Entries {
  const domains = new Set<string>()
  const paths = new Map<string, string[]>()
  let count = 0
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim().toLowerCase()
    if (line === '') continue
    const bare = line.replace(/^[a-z][a-z0-9+.-]*:\/\//, '')
    const slash = bare.indexOf('/')
    const host = (slash === -1 ? bare : bare.slice(0, slash)).replace(/^\*?\./, '').replace(/:\d+$/, '').replace(/\.$/, '')
    if (host === '') continue
    count++
    if (slash === -1 || slash === bare.length - 1) { domains.add(host); continue }
    const list = paths.get(host)
    if (list === undefined) paths.set(host, [bare.slice(slash)])
    else list.push(bare.slice(slash))
  }
  return { domains, paths, count }
}

/// The host and path of a URL as Squid sends it (absolute, or a CONNECT authority); undefined parts
/// when it has none.
export function hostAndPath (url: string): { host: string, path: string } {
  const bare = url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
  const end = bare.search(/[/?#]/)
  const authority = end === -1 ? bare : bare.slice(0, end)
  const host = authority.replace(/^[^@]*@/, '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase()
  const path = end === -1 ? '/' : bare.slice(end)
  return { host, path: path.startsWith('/') ? path.toLowerCase() : `/${path.toLowerCase()}` }
}

/// The host and each parent domain, most specific first: a.b.example.com, b.example.com, example.com, com.
export function hostAndParents (host: string): string[] {
  const out = [host]
  for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) out.push(host.slice(dot + 1))
  return out
}

export class HostList {
  readonly path: string
  #entries: Entries
  #watcher: FSWatcher | undefined
  #timer: NodeJS.Timeout | undefined

  /// Reads the file now: a list that cannot be read at start is a configuration error (thrown).
  constructor (path: string) {
    this.path = path
    this.#entries = parseList(readFileSync(path, 'utf8'))
  }

  get size (): number { return this.#entries.count }

  /// The entry that matches a URL (host or host + path prefix), or undefined.
  match (host: string, path: string): string | undefined {
    const { domains, paths } = this.#entries
    for (const name of hostAndParents(host)) {
      if (domains.has(name)) return name
      const prefixes = paths.size === 0 ? undefined : paths.get(name)
      const hit = prefixes?.find(p => path.startsWith(p))
      if (hit !== undefined) return `${name}${hit}`
    }
    return undefined
  }

  /// Reads the file again; false (and the old entries kept) when it cannot be read.
  reload (log?: Logger): boolean {
    try {
      this.#entries = parseList(readFileSync(this.path, 'utf8'))
      log?.info({ list: this.path, entries: this.#entries.count }, 'policy list reloaded')
      return true
    } catch (err) {
      log?.error({ list: this.path, err: errorMessage(err) }, 'policy list not reloaded; the old entries stay')
      return false
    }
  }

  /// Re-reads the file `debounceMs` after the last change seen in its directory.
  watch (debounceMs: number, log: Logger): void {
    if (this.#watcher !== undefined) return
    const name = basename(this.path)
    this.#watcher = watch(dirname(this.path), (_event, file) => {
      if (file !== null && file !== name) return
      clearTimeout(this.#timer)
      this.#timer = setTimeout(() => { this.reload(log) }, debounceMs)
    })
    this.#watcher.on('error', (err: unknown) => { log.error({ list: this.path, err: errorMessage(err) }, 'policy list watch failed') })
    this.#watcher.unref()
  }

  close (): void {
    clearTimeout(this.#timer)
    this.#watcher?.close()
    this.#watcher = undefined
  }
}
