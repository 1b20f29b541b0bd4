/// Brings one ClamAV database (main, daily, …) from version L to the source's newest T, as freshclam
/// does: the cdiffs L+1..T applied to an unpacked copy of what runs now when they are all there,
/// else the full CVD (plus any cdiffs past it). Every file is verified before use (CVD: MD5 and
/// dsig; cdiff: PSS signature; the result: the .info's signed SHA-256 list and version T); a file's
/// ClamAV 1.5 `.sign` (detached PKCS#7), when the source has one, must verify too and then stands in
/// for the file's own signature; any failure refuses the update of this database with the reason,
/// and nothing is half-applied.
import { applyCdiff, fromLines, toLines, verifyCdiff, type UnpackedDb } from '../engine/signatures/cdiff.js'
import { buildCld, readCvd, verifyCvd, type CvdHeader } from '../engine/signatures/cvd.js'
import { verifyInfo } from '../engine/signatures/info.js'
import type { UpdateSource } from './source.js'
import { verifySignFile } from './clamsign.js'
import type { UpdateTrust } from './keys.js'

export interface LocalDb {
  readonly version: number
  /// The .cvd/.cld running now (undefined: none yet).
  readonly container?: Uint8Array | undefined
  readonly lastModified?: string | undefined
}

export interface DbUpdate {
  readonly db: string
  readonly from: number
  readonly version: number
  /// `<db>.cvd` as fetched, or `<db>.cld` rebuilt from cdiffs.
  readonly container: { readonly name: string, readonly data: Uint8Array }
  /// The verified upstream files, to serve to cluster peers unchanged.
  readonly fetched: ReadonlyArray<{ readonly name: string, readonly data: Uint8Array }>
  readonly how: 'cvd' | 'cdiff'
  readonly lastModified?: string | undefined
}

export type DbOutcome = { readonly kind: 'current', readonly lastModified?: string | undefined } | { readonly kind: 'updated', readonly update: DbUpdate }

export class RefusedUpdate extends Error {}

function unpack (container: Uint8Array): { header: CvdHeader, db: UnpackedDb } | string {
  const r = readCvd(container)
  if (typeof r === 'string') return r
  return { header: r.header, db: new Map(r.entries.map(e => [e.name, toLines(e.data)])) }
}

const filesOf = (db: UnpackedDb): Map<string, Uint8Array> => new Map([...db].map(([k, v]) => [k, fromLines(v)]))

type FetchedFile = { readonly name: string, readonly data: Uint8Array }

/// The `.sign` of a fetched file: `vouched` with the .sign kept for peers when it verifies, not
/// vouched when the source has none (the file's own signature must then do, unless
/// updates.requireSignFiles), or the reason to refuse the file.
async function detachedSignature (file: string, data: Uint8Array, source: UpdateSource, trust: UpdateTrust): Promise<{ vouched: boolean, files: FetchedFile[] } | string> {
  const sign = await source.get(`${file}.sign`)
  if (sign.kind !== 'ok') return trust.requireSignFiles ? `${file}.sign is not on ${source.name} (updates.requireSignFiles)` : { vouched: false, files: [] }
  const why = await verifySignFile(data, sign.data, trust.roots)
  return why === undefined ? { vouched: true, files: [{ name: `${file}.sign`, data: sign.data }] } : `${file}.sign: ${why}`
}

/// Applies the cdiffs from+1..to to the copy; the files fetched (and whether every cdiff had a
/// verified .sign), or the reason it cannot.
async function applyChain (name: string, copy: UnpackedDb, from: number, to: number, source: UpdateSource, trust: UpdateTrust): Promise<{ files: FetchedFile[], vouched: boolean } | string> {
  const fetched: FetchedFile[] = []
  let vouched = true
  for (let v = from + 1; v <= to; v++) {
    const file = `${name}-${v}.cdiff`
    const got = await source.get(file)
    if (got.kind !== 'ok') return `${file} is not on ${source.name}`
    const detached = await detachedSignature(file, got.data, source, trust)
    if (typeof detached === 'string') return detached
    const checked = verifyCdiff(got.data, trust.keys, detached.vouched)
    if (typeof checked === 'string') return `${file}: ${checked}`
    if (checked.cdiff.version !== v) return `${file} says it is version ${checked.cdiff.version}`
    try {
      applyCdiff(copy, checked.cdiff)
    } catch (err) {
      return err instanceof Error ? err.message : String(err)
    }
    fetched.push({ name: file, data: got.data }, ...detached.files)
    vouched &&= detached.vouched
  }
  return { files: fetched, vouched }
}

/// The .cld for an unpacked copy that must now be `version`, checked by its signed .info (its DSIG
/// not required when every cdiff that rewrote it was vouched for by a .sign).
function rebuilt (name: string, base: CvdHeader, copy: UnpackedDb, version: number, trust: UpdateTrust, vouched: boolean): Uint8Array | string {
  const files = filesOf(copy)
  const info = verifyInfo(files, trust.keys, vouched)
  if (typeof info === 'string') return info
  if (info.version !== version) return `${name}.info says version ${info.version}, expected ${version}`
  return buildCld({ ...base, version, md5: '', dsig: '' }, [...files].map(([n, data]) => ({ name: n, data })))
}

export async function updateDb (name: string, source: UpdateSource, local: LocalDb, trust: UpdateTrust, log: (msg: string) => void): Promise<DbOutcome> {
  const latest = await source.latest(name, local.container === undefined ? undefined : local.lastModified)
  if (latest.kind === 'unchanged') return { kind: 'current', lastModified: local.lastModified }
  if (latest.kind === 'missing') throw new RefusedUpdate(`${name}.cvd is not on ${source.name}`)
  const target = latest.version
  if (target <= local.version) return { kind: 'current', lastModified: latest.lastModified }
  // Incremental first: far fewer bytes than the full CVD.
  const current = local.container === undefined ? undefined : unpack(local.container)
  if (current !== undefined && typeof current !== 'string' && local.version > 0) {
    const chain = await applyChain(name, current.db, local.version, target, source, trust)
    const cld = typeof chain === 'string' ? chain : rebuilt(name, current.header, current.db, target, trust, chain.vouched)
    if (typeof chain !== 'string' && typeof cld !== 'string') {
      return { kind: 'updated', update: { db: name, from: local.version, version: target, container: { name: `${name}.cld`, data: cld }, fetched: chain.files, how: 'cdiff', lastModified: latest.lastModified } }
    }
    log(`${name}: incremental update ${local.version}→${target} not possible (${String(typeof chain === 'string' ? chain : cld)}); fetching ${name}.cvd`)
  }
  const full = await source.get(`${name}.cvd`)
  if (full.kind !== 'ok') throw new RefusedUpdate(`${name}.cvd is not on ${source.name}`)
  const detached = await detachedSignature(`${name}.cvd`, full.data, source, trust)
  if (typeof detached === 'string') throw new RefusedUpdate(`${detached} (from ${source.name})`)
  const checked = verifyCvd(full.data, trust.keys, detached.vouched)
  if (typeof checked === 'string') throw new RefusedUpdate(`${name}.cvd from ${source.name}: ${checked}`)
  const version = checked.header.version
  if (version <= local.version) throw new RefusedUpdate(`${name}.cvd from ${source.name} is version ${version}, not newer than the running ${local.version}`)
  const copy = unpack(full.data)
  if (typeof copy === 'string') throw new RefusedUpdate(`${name}.cvd: ${copy}`)
  const info = verifyInfo(filesOf(copy.db), trust.keys, detached.vouched)
  if (typeof info === 'string') throw new RefusedUpdate(`${name}.cvd: ${info}`)
  if (version >= target) {
    return { kind: 'updated', update: { db: name, from: local.version, version, container: { name: `${name}.cvd`, data: full.data }, fetched: [{ name: `${name}.cvd`, data: full.data }, ...detached.files], how: 'cvd', lastModified: latest.lastModified } }
  }
  const chain = await applyChain(name, copy.db, version, target, source, trust)
  if (typeof chain === 'string') throw new RefusedUpdate(`${name}: ${chain}`)
  const cld = rebuilt(name, copy.header, copy.db, target, trust, chain.vouched)
  if (typeof cld === 'string') throw new RefusedUpdate(`${name}: ${cld}`)
  return { kind: 'updated', update: { db: name, from: local.version, version: target, container: { name: `${name}.cld`, data: cld }, fetched: [{ name: `${name}.cvd`, data: full.data }, ...detached.files, ...chain.files], how: 'cdiff', lastModified: latest.lastModified } }
}
