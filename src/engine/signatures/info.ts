/// `.info` files: a DB's own list of its files (`name:size:sha256`, after a `ClamAV-VDB:` header
/// line and before a `DSIG:` line). Two uses, one reader:
/// - at load, a listed file that is missing or differs is a damaged or tampered DB (SIGDB_INVALID);
/// - for updates, the `DSIG:` line is a PSS signature over the SHA-256 of the lines before it
///   (libclamav's cli_loadinfo). It vouches for a .cld rebuilt from cdiffs, whose container header
///   carries no signature: the signed list must then match every file, byte for byte.
import { createHash } from 'node:crypto'
import { firstKey, verifyPssSignature, type RsaPublicKey } from './dsig.js'

export interface InfoEntry { readonly name: string, readonly size: number, readonly sha256: string }

export function parseInfo (data: Uint8Array): InfoEntry[] | string {
  const out: InfoEntry[] = []
  const lines = Buffer.from(data).toString('latin1').split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#'))
  for (const [i, line] of lines.entries()) {
    if (line.startsWith('ClamAV-VDB:')) continue
    if (line.startsWith('DSIG:')) break
    const m = /^([^:]+):(\d+):([0-9a-fA-F]{64})$/.exec(line)
    if (m === null) return `line ${i + 1}: expected name:size:sha256`
    out.push({ name: m[1] ?? '', size: Number(m[2]), sha256: (m[3] ?? '').toLowerCase() })
  }
  return out
}

/// The reason the files do not match the list, or undefined when they all do.
export function checkInfo (entries: readonly InfoEntry[], files: ReadonlyMap<string, Uint8Array>): string | undefined {
  for (const e of entries) {
    const data = files.get(e.name)
    if (data === undefined) return `${e.name} is listed but missing`
    if (data.length !== e.size) return `${e.name} has ${data.length} bytes, the list says ${e.size}`
    if (createHash('sha256').update(data).digest('hex') !== e.sha256) return `${e.name} does not match its SHA-256`
  }
  return undefined
}

export interface InfoCheck { readonly version: number, readonly key?: RsaPublicKey }

/// Checks the signed .info of a container's files (name → bytes): the signature under a trusted key,
/// every file listed and matching, nothing listed missing. The reason when something does not match.
/// `vouched`: the files came from containers whose `.sign` files verified, so the DSIG line is not
/// required; the list must still match, since it says the cdiffs were applied right.
export function verifyInfo (files: ReadonlyMap<string, Uint8Array>, keys: readonly RsaPublicKey[], vouched = false): InfoCheck | string {
  const infoName = [...files.keys()].find(n => n.endsWith('.info'))
  if (infoName === undefined) return 'no .info file: the contents cannot be verified'
  const data = files.get(infoName) ?? new Uint8Array()
  const text = Buffer.from(data).toString('latin1')
  // The signature covers every byte before the first line that starts with DSIG:.
  const dsigAt = /^DSIG:/m.exec(text)?.index
  if (dsigAt === undefined) return `${infoName}: no DSIG line`
  const signed = text.slice(0, dsigAt)
  const dsig = text.slice(dsigAt + 5).split('\n')[0]?.replace(/\r$/, '') ?? ''
  const hash = createHash('sha256').update(signed, 'latin1').digest()
  const key = vouched ? undefined : firstKey(keys, k => verifyPssSignature(hash, dsig, k))
  if (key === undefined && !vouched) return `${infoName}: digital signature does not verify under any trusted key (${keys.map(k => k.name).join(', ')})`
  const version = Number(/^ClamAV-VDB:[^:]*:(\d+)/m.exec(signed)?.[1])
  if (!Number.isSafeInteger(version)) return `${infoName}: no ClamAV-VDB line`
  const entries = parseInfo(data)
  if (typeof entries === 'string') return `${infoName}: ${entries}`
  const listed = new Set(entries.map(e => e.name))
  for (const name of files.keys()) {
    // the licence text is not listed (as in libclamav)
    if (name !== infoName && name !== 'COPYING' && !listed.has(name)) return `${name} is not listed in ${infoName}`
  }
  for (const e of entries) {
    const file = files.get(e.name)
    if (file === undefined) return `${e.name} listed in ${infoName} but missing`
    if (checkInfo([e], files) !== undefined) return `${e.name} does not match its size and SHA-256 in ${infoName}`
  }
  return key === undefined ? { version } : { version, key }
}
