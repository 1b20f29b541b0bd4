/// The quarantine directory: each object is `<id>.q` (sealed.ts: compressed, encrypted, mode 0600)
/// beside `<id>.json` (its metadata, mode 0600); ids are random, never the object's name, so nothing
/// at rest can be opened or run by its name. A size cap evicts the oldest objects first and a
/// retention time deletes old ones. The node writes here; the CLI reads, exports, releases and
/// deletes by id with the same key.
import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ScanwallError, errorMessage } from '../errors.js'
import type { BodySource } from '../scan/body.js'
import { seal, unseal } from './sealed.js'

/// Where and why an object was blocked, as the protocol knew it.
export interface QuarantineOrigin {
  readonly threat: string
  readonly reason: string
  readonly verdict: string
  readonly service: string
  readonly method: string
  readonly url: string
  readonly client: string
  readonly user: string
  readonly node: string
}

export interface QuarantineEntry extends QuarantineOrigin {
  readonly id: string
  /// ISO time it was quarantined.
  readonly at: string
  readonly size: number
  readonly stored: number
  readonly sha256: string
  readonly sha1: string
  readonly md5: string
  /// Set by `scanwall quarantine release`: an operator judged the object harmless.
  readonly released?: string
}

export interface QuarantineLimits {
  readonly maxBytes: number
  readonly maxObjectBytes: number
  readonly retentionHours: number
}

const idPattern = /^[0-9a-f]{24}$/

function sourceStream (body: BodySource): Readable {
  if (body.kind === 'file') return body.size === 0 ? Readable.from([]) : createReadStream(body.path, { start: 0, end: body.size - 1 })
  return Readable.from([Buffer.from(body.bytes, 0, body.size)])
}

export class QuarantineStore {
  readonly dir: string
  readonly #key: Buffer
  readonly #limits: QuarantineLimits

  private constructor (dir: string, key: Buffer, limits: QuarantineLimits) {
    this.dir = dir
    this.#key = key
    this.#limits = limits
  }

  static async open (dir: string, key: Buffer, limits: QuarantineLimits): Promise<QuarantineStore> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 })
    } catch (err) {
      throw new ScanwallError('CONFIG_INVALID', `quarantine.dir: cannot create ${dir}: ${errorMessage(err)}`)
    }
    return new QuarantineStore(dir, key, limits)
  }

  #file (id: string, ext: 'q' | 'json'): string {
    if (!idPattern.test(id)) throw new ScanwallError('QUARANTINE', `no object ${JSON.stringify(id)} (ids are 24 hex digits)`)
    return join(this.dir, `${id}.${ext}`)
  }

  /// Seals the body and writes its metadata; undefined when it is over maxObjectBytes. Evicts the
  /// oldest objects past the size cap afterwards. The caller still owns (and releases) the body.
  async put (body: BodySource, origin: QuarantineOrigin, now = new Date()): Promise<QuarantineEntry | undefined> {
    if (body.size > this.#limits.maxObjectBytes) return undefined
    const id = randomBytes(12).toString('hex')
    const part = join(this.dir, `${id}.part`)
    try {
      const facts = await seal(sourceStream(body), part, this.#key)
      const entry: QuarantineEntry = { id, at: now.toISOString(), ...origin, ...facts }
      await writeFile(this.#file(id, 'json'), `${JSON.stringify(entry)}\n`, { mode: 0o600, flag: 'wx' })
      await rename(part, this.#file(id, 'q'))
      await this.#evict(id)
      return entry
    } catch (err) {
      await rm(part, { force: true })
      await rm(this.#file(id, 'json'), { force: true })
      throw new ScanwallError('QUARANTINE', `cannot store object: ${errorMessage(err)}`)
    }
  }

  /// Every entry, oldest first. A metadata file that cannot be read is skipped (a half-deleted one).
  async list (): Promise<QuarantineEntry[]> {
    const names = (await readdir(this.dir)).filter(n => n.endsWith('.json') && idPattern.test(n.slice(0, -5)))
    const entries: QuarantineEntry[] = []
    for (const name of names) {
      try {
        entries.push(JSON.parse(await readFile(join(this.dir, name), 'utf8')) as QuarantineEntry)
      } catch {}
    }
    return entries.sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id))
  }

  async get (id: string): Promise<QuarantineEntry> {
    try {
      return JSON.parse(await readFile(this.#file(id, 'json'), 'utf8')) as QuarantineEntry
    } catch (err) {
      if (err instanceof ScanwallError) throw err
      throw new ScanwallError('QUARANTINE', `no object ${id}`)
    }
  }

  /// Writes the original bytes to `file` (new, mode 0600); a wrong key or a damaged object leaves
  /// no file behind.
  async export (id: string, file: string): Promise<QuarantineEntry> {
    const entry = await this.get(id)
    try {
      await pipeline(await unseal(this.#file(id, 'q'), this.#key), createWriteStream(file, { flags: 'wx', mode: 0o600 }))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') await rm(file, { force: true })
      throw new ScanwallError('QUARANTINE', `cannot export ${id}: ${errorMessage(err)}`)
    }
    return entry
  }

  /// The original bytes of one object as a stream (the console's defanged download); a wrong key
  /// or a damaged object errors the stream.
  async open (id: string): Promise<{ entry: QuarantineEntry, stream: Readable }> {
    const entry = await this.get(id)
    return { entry, stream: await unseal(this.#file(id, 'q'), this.#key) }
  }

  async release (id: string, now = new Date()): Promise<QuarantineEntry> {
    const entry: QuarantineEntry = { ...await this.get(id), released: now.toISOString() }
    const tmp = `${this.#file(id, 'json')}.tmp`
    await writeFile(tmp, `${JSON.stringify(entry)}\n`, { mode: 0o600 })
    await rename(tmp, this.#file(id, 'json'))
    return entry
  }

  async delete (id: string): Promise<void> {
    await this.get(id)
    await rm(this.#file(id, 'q'), { force: true })
    await rm(this.#file(id, 'json'), { force: true })
  }

  /// Deletes objects older than the retention time; returns how many.
  async expire (now = Date.now()): Promise<number> {
    const before = new Date(now - this.#limits.retentionHours * 3_600_000).toISOString()
    const old = (await this.list()).filter(e => e.at < before)
    for (const e of old) await this.delete(e.id)
    return old.length
  }

  /// Oldest first until the stored bytes fit under maxBytes; `keep` goes last.
  async #evict (keep: string): Promise<void> {
    const entries = await this.list()
    let total = entries.reduce((sum, e) => sum + e.stored, 0)
    const order = [...entries.filter(e => e.id !== keep), ...entries.filter(e => e.id === keep)]
    for (const e of order) {
      if (total <= this.#limits.maxBytes) return
      await this.delete(e.id).catch(() => {})
      total -= e.stored
    }
  }
}
