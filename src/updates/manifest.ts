/// A plain directory of DB files (no CVD containers: local .ndb/.ldb/.hdb sets, a vendor's feed) as
/// an update source: `SHA256SUMS` (sha256sum's format: `<hex>  <name>` per file) lists the files,
/// and `SHA256SUMS.sig` signs it (ClamAV's PSS signature over its SHA-256, in ClamAV's base-64
/// variant, under a trusted key: the same scheme as a cdiff, so sigtool's keys serve). A listed
/// file whose hash differs, an unlisted name or a bad signature refuses the whole set.
import { createHash } from 'node:crypto'
import { firstKey, verifyPssSignature, type RsaPublicKey } from '../engine/signatures/dsig.js'
import { isSignatureFile } from '../engine/signatures/load.js'
import type { UpdateSource } from './source.js'

export const manifestName = 'SHA256SUMS'

export type ManifestOutcome =
  | { readonly kind: 'current' }
  | { readonly kind: 'files', readonly digest: string, readonly files: ReadonlyArray<{ readonly name: string, readonly data: Uint8Array }>, readonly signed: ReadonlyArray<{ readonly name: string, readonly data: Uint8Array }> }

/// Fetches and checks the set; `known`: the digest of the manifest installed now ('current' if equal).
export async function fetchManifestSet (source: UpdateSource, keys: readonly RsaPublicKey[], known: string | undefined): Promise<ManifestOutcome> {
  const list = await source.get(manifestName)
  if (list.kind !== 'ok') throw new Error(`${manifestName} is not on ${source.name}`)
  const digest = createHash('sha256').update(list.data).digest()
  if (digest.toString('hex') === known) return { kind: 'current' }
  const sig = await source.get(`${manifestName}.sig`)
  if (sig.kind !== 'ok') throw new Error(`${manifestName} is unsigned: no ${manifestName}.sig on ${source.name}`)
  if (firstKey(keys, k => verifyPssSignature(digest, sig.data.toString('latin1').trim(), k)) === undefined) {
    throw new Error(`${manifestName}: signature does not verify under any trusted key (${keys.map(k => k.name).join(', ')})`)
  }
  const files = []
  for (const line of list.data.toString('utf8').split('\n').map(l => l.trim()).filter(l => l !== '')) {
    const m = /^([0-9a-f]{64}) [ *]?(\S+)$/i.exec(line)
    if (m === null) throw new Error(`${manifestName}: malformed line '${line}'`)
    const name = m[2] ?? ''
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.') || !isSignatureFile(name)) throw new Error(`${manifestName}: '${name}' is not a signature file name`)
    const got = await source.get(name)
    if (got.kind !== 'ok') throw new Error(`${name} (listed in ${manifestName}) is not on ${source.name}`)
    if (createHash('sha256').update(got.data).digest('hex') !== (m[1] ?? '').toLowerCase()) throw new Error(`${name} does not match its SHA-256 in ${manifestName}`)
    files.push({ name, data: got.data })
  }
  if (files.length === 0) throw new Error(`${manifestName} lists no files`)
  return { kind: 'files', digest: digest.toString('hex'), files, signed: [{ name: manifestName, data: list.data }, { name: `${manifestName}.sig`, data: sig.data }] }
}
