/// Loads a signature DB through the compiled-DB cache: the compiled form (msgpackr) is stored in
/// Scanwall's own cache directory (cacheDir, created when missing), named by a hash of the DB files'
/// names and contents, so a restart with an unchanged DB skips parsing and compilation. Never beside
/// the DB: a signature directory belongs to whoever maintains it (freshclam, an operator).
/// Several DBs are kept, up to a budget of bytes (`signatures.compiledCacheBytes`), least recently
/// used out (a file's mtime is its last use: a load from the cache touches it): processes with
/// different DBs on one machine (a node, `scanwall scan --db`, a test run) each find theirs warm,
/// where keeping two made them evict each other and compile cold (~3.6 s for the peer-scale DB).
/// The DB just written and the most recently used other one (the previous DB, which `scanwall sigs
/// rollback` swaps back in without compiling) are kept whatever the budget.
import { mkdir, open, readdir, rename, stat, unlink, utimes, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
// msgpackr's 'pack' entry, not its main one: the main entry loads the optional native string
// extractor (msgpackr-extract, through node-gyp-build and detect-libc), 40-200 ms at every start
// for a header of a few KiB that the JS decoder reads in well under a millisecond.
import { Packr } from 'msgpackr/pack'
import { readDbFiles, versionOf, versionOfPath } from './load.js'
import { ScanwallError } from '../../errors.js'
import { compileDb } from '../matcher/build.js'
import type { CompiledDb, Section } from '../matcher/db.js'
import type { LoadStats } from './types.js'
import type { DbParams } from '../matcher/db.js'

/// Bump when the compiled layout or the compiler's choices change: old cache files are then ignored.
const layoutVersion = 5
const prefix = 'scanwall-compiled-'
/// The default budget of compiled DBs kept: the current and previous full ClamAV DB (a few hundred
/// MiB each compiled) and a few small ones beside them.
export const defaultCompiledCacheBytes = 1 << 30

export interface DbLoadOptions {
  readonly lenient: boolean
  /// Where to keep the compiled cache; undefined: no cache (always compile, write nothing).
  readonly cacheDir?: string | undefined
  /// false: always compile (benchmarks of cold load).
  readonly useCache?: boolean
  /// Bytes of compiled DBs kept in cacheDir (defaultCompiledCacheBytes when absent).
  readonly cacheBudgetBytes?: number | undefined
}

export interface LoadedDb { readonly db: CompiledDb, readonly fromCache: boolean, readonly cacheFile: string | undefined }

/// File layout: 4-byte little-endian length, a msgpackr record (everything but the bulk), then the
/// SharedArrayBuffer's bytes raw, so a warm start reads them straight into shared memory (no decode,
/// no intermediate copy; an 8-million-signature DB is hundreds of MiB).
interface CacheHeader {
  readonly layout: number
  readonly version: string
  readonly builtAt: number
  readonly stats: LoadStats
  readonly params: DbParams
  readonly sections: Record<string, Section>
  readonly byteLength: number
}

const packr = new Packr({ useRecords: false })

async function readFully (handle: FileHandle, into: Uint8Array, position: number): Promise<boolean> {
  for (let got = 0; got < into.length;) {
    const { bytesRead } = await handle.read(into, got, into.length - got, position + got)
    if (bytesRead === 0) return false
    got += bytesRead
  }
  return true
}

async function tryRead (file: string, version: string): Promise<CompiledDb | undefined> {
  let handle: FileHandle
  try { handle = await open(file, 'r') } catch { return undefined }
  try {
    const size = (await handle.stat()).size
    const lenBytes = new Uint8Array(4)
    if (!await readFully(handle, lenBytes, 0)) return undefined
    const headerLength = Buffer.from(lenBytes).readUInt32LE(0)
    if (headerLength > size - 4) return undefined
    const headerBytes = new Uint8Array(headerLength)
    if (!await readFully(handle, headerBytes, 4)) return undefined
    const header = packr.unpack(headerBytes) as CacheHeader
    if (header.layout !== layoutVersion || header.version !== version || header.byteLength !== size - 4 - headerLength) return undefined
    const buffer = new SharedArrayBuffer(header.byteLength)
    if (!await readFully(handle, new Uint8Array(buffer), 4 + headerLength)) return undefined
    return { version: header.version, builtAt: header.builtAt, stats: header.stats, params: header.params, sections: header.sections, buffer }
  } catch {
    return undefined // a corrupt or foreign cache file is rebuilt, never trusted
  } finally {
    await handle.close()
  }
}

async function tryWrite (dir: string, file: string, db: CompiledDb): Promise<boolean> {
  const header: CacheHeader = { layout: layoutVersion, version: db.version, builtAt: db.builtAt, stats: db.stats, params: db.params, sections: db.sections as Record<string, Section>, byteLength: db.buffer.byteLength }
  const headerBytes = packr.pack(header)
  const len = Buffer.alloc(4)
  len.writeUInt32LE(headerBytes.length, 0)
  const tmp = `${file}.${process.pid}.tmp`
  try {
    await mkdir(dir, { recursive: true })
    const handle = await open(tmp, 'w')
    try {
      await handle.write(len)
      await handle.write(headerBytes)
      await handle.write(new Uint8Array(db.buffer))
    } finally {
      await handle.close()
    }
    await rename(tmp, file)
  } catch {
    await unlink(tmp).catch(() => {})
    return false
  }
  return true
}

/// Removes the least recently used compiled DBs past the budget; `current` (just written) and the
/// most recently used other one stay whatever their size.
async function prune (dir: string, current: string, budgetBytes: number): Promise<void> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter(n => n.startsWith(prefix) && n.endsWith('.msgpack') && join(dir, n) !== current)
  const others = (await Promise.all(names.map(async n => {
    const s = await stat(join(dir, n)).catch(() => undefined)
    return s === undefined ? undefined : { path: join(dir, n), usedAt: s.mtimeMs, bytes: s.size }
  }))).filter(o => o !== undefined).sort((a, b) => b.usedAt - a.usedAt)
  let total = (await stat(current).catch(() => undefined))?.size ?? 0
  let full = false
  for (const [i, other] of others.entries()) {
    total += other.bytes
    // Strictly oldest first: once one is past the budget, every less recently used one goes too.
    full ||= i > 0 && total > budgetBytes
    if (full) await unlink(other.path).catch(() => {})
  }
}

/// Marks a cache file used now (its mtime is its last use); a read-only cache directory just skips it.
async function touch (file: string): Promise<void> {
  const now = new Date()
  await utimes(file, now, now).catch(() => {})
}

/// Loads (from cache when possible) and compiles the DB at `path` (a directory or one file).
export async function loadDb (path: string, options: DbLoadOptions): Promise<LoadedDb> {
  const version = await versionOfPath(path)
  const key = `${prefix}${version}${options.lenient ? '-l' : ''}.msgpack`
  const dir = options.useCache === false ? undefined : options.cacheDir
  if (dir !== undefined) {
    const db = await tryRead(join(dir, key), version)
    if (db !== undefined) {
      await touch(join(dir, key))
      return { db, fromCache: true, cacheFile: join(dir, key) }
    }
  }
  const files = await readDbFiles(path)
  if (versionOf(files) !== version) throw new ScanwallError('SIGDB_INVALID', `${path}: files changed while loading; retry`)
  const db = compileDb(files, version, { lenient: options.lenient })
  if (dir !== undefined && await tryWrite(dir, join(dir, key), db)) {
    await prune(dir, join(dir, key), options.cacheBudgetBytes ?? defaultCompiledCacheBytes)
    return { db, fromCache: false, cacheFile: join(dir, key) }
  }
  return { db, fromCache: false, cacheFile: undefined }
}
