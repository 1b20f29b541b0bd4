/// Loads a signature DB through the compiled-DB cache: the compiled form (msgpackr) is stored next
/// to the DB (or in cacheDir when the DB directory is not writable), named by a hash of the DB files'
/// names and contents, so a restart with an unchanged DB skips parsing and compilation.
import { mkdir, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { stat } from 'node:fs/promises'
import { Packr } from 'msgpackr'
import { readDbFiles, versionOf } from './load.js'
import { compileDb } from '../matcher/build.js'
import type { CompiledDb, Section } from '../matcher/db.js'
import type { LoadStats } from './types.js'
import type { DbParams } from '../matcher/db.js'

/// Bump when the compiled layout or the compiler's choices change: old cache files are then ignored.
const layoutVersion = 2
const prefix = 'scanwall-compiled-'

export interface DbLoadOptions {
  readonly lenient: boolean
  /// Where to keep the compiled cache when the DB's own directory is read-only; undefined: no fallback.
  readonly cacheDir?: string | undefined
  /// false: always compile (benchmarks of cold load).
  readonly useCache?: boolean
}

export interface LoadedDb { readonly db: CompiledDb, readonly fromCache: boolean, readonly cacheFile: string | undefined }

interface CacheRecord {
  readonly layout: number
  readonly version: string
  readonly builtAt: number
  readonly stats: LoadStats
  readonly params: DbParams
  readonly sections: Record<string, Section>
  readonly bytes: Uint8Array
}

const packr = new Packr({ useRecords: false })

/// Where the cache may live: the DB's own directory unless it is read-only (no write bit: honoured
/// even when running as root, who could write anyway), then the fallback cacheDir.
async function candidates (path: string, cacheDir: string | undefined): Promise<{ read: string[], write: string[] }> {
  const info = await stat(path)
  const own = info.isDirectory() ? path : dirname(path)
  const ownWritable = ((await stat(own)).mode & 0o222) !== 0
  const read = cacheDir === undefined ? [own] : [own, cacheDir]
  return { read, write: read.filter(d => d !== own || ownWritable) }
}

async function tryRead (file: string, version: string): Promise<CompiledDb | undefined> {
  let raw: Buffer
  try { raw = await readFile(file) } catch { return undefined }
  try {
    const rec = packr.unpack(raw) as CacheRecord
    if (rec.layout !== layoutVersion || rec.version !== version || !(rec.bytes instanceof Uint8Array)) return undefined
    const buffer = new SharedArrayBuffer(rec.bytes.length)
    new Uint8Array(buffer).set(rec.bytes)
    return { version: rec.version, builtAt: rec.builtAt, stats: rec.stats, params: rec.params, sections: rec.sections, buffer }
  } catch {
    return undefined // a corrupt or foreign cache file is rebuilt, never trusted
  }
}

async function tryWrite (dir: string, file: string, db: CompiledDb): Promise<boolean> {
  const rec: CacheRecord = { layout: layoutVersion, version: db.version, builtAt: db.builtAt, stats: db.stats, params: db.params, sections: db.sections as Record<string, Section>, bytes: new Uint8Array(db.buffer) }
  const tmp = `${file}.${process.pid}.tmp`
  try {
    await mkdir(dir, { recursive: true })
    await writeFile(tmp, packr.pack(rec))
    await rename(tmp, file)
  } catch {
    await unlink(tmp).catch(() => {})
    return false
  }
  // Older compiled forms of this DB are now stale.
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.startsWith(prefix) && join(dir, name) !== file && name.endsWith('.msgpack')) await unlink(join(dir, name)).catch(() => {})
  }
  return true
}

/// Loads (from cache when possible) and compiles the DB at `path` (a directory or one file).
export async function loadDb (path: string, options: DbLoadOptions): Promise<LoadedDb> {
  const files = await readDbFiles(path)
  const version = versionOf(files)
  const key = `${prefix}${version}${options.lenient ? '-l' : ''}.msgpack`
  const dirs = await candidates(path, options.cacheDir)
  if (options.useCache !== false) {
    for (const dir of dirs.read) {
      const db = await tryRead(join(dir, key), version)
      if (db !== undefined) return { db, fromCache: true, cacheFile: join(dir, key) }
    }
  }
  const db = compileDb(files, version, { lenient: options.lenient })
  if (options.useCache === false) return { db, fromCache: false, cacheFile: undefined }
  for (const dir of dirs.write) {
    if (await tryWrite(dir, join(dir, key), db)) return { db, fromCache: false, cacheFile: join(dir, key) }
  }
  return { db, fromCache: false, cacheFile: undefined }
}
