/// The `.info` file inside a ClamAV database container: a `ClamAV-VDB:` header line, one
/// `name:size:sha256` line per file, then `DSIG:` and a PSS signature over the SHA-256 of the lines
/// before it (libclamav's cli_loadinfo). It is what vouches for a .cld rebuilt from cdiffs, whose
/// container header carries no signature: the signed list must match every file, byte for byte.
import { createHash } from 'node:crypto'
import { firstKey, verifyPssSignature, type RsaPublicKey } from './dsig.js'

export interface InfoCheck { readonly version: number, readonly key: RsaPublicKey }

/// Checks the .info of a container's files (name → bytes); the reason when something does not match.
export function verifyInfo (files: ReadonlyMap<string, Uint8Array>, keys: readonly RsaPublicKey[]): InfoCheck | string {
  const infoName = [...files.keys()].find(n => n.endsWith('.info'))
  if (infoName === undefined) return 'no .info file: the contents cannot be verified'
  const text = Buffer.from(files.get(infoName) ?? new Uint8Array()).toString('latin1')
  const lines = text.split('\n')
  const digest = createHash('sha256')
  let dsig: string | undefined
  const listed = new Map<string, { size: number, sha256: string }>()
  let version: number | undefined
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '')
    if (line.startsWith('DSIG:')) { dsig = line.slice(5); break }
    digest.update(raw + '\n')
    if (line === '') continue
    if (line.startsWith('ClamAV-VDB:')) { version = Number(line.split(':')[2]); continue }
    const [name = '', size = '', sha256 = ''] = line.split(':')
    if (!/^\d+$/.test(size) || !/^[0-9a-f]{64}$/i.test(sha256)) return `${infoName}: malformed line '${line}'`
    listed.set(name, { size: Number(size), sha256: sha256.toLowerCase() })
  }
  if (dsig === undefined) return `${infoName}: no DSIG line`
  const hash = digest.digest()
  const key = firstKey(keys, k => verifyPssSignature(hash, dsig ?? '', k))
  if (key === undefined) return `${infoName}: digital signature does not verify under any trusted key (${keys.map(k => k.name).join(', ')})`
  if (version === undefined || !Number.isSafeInteger(version)) return `${infoName}: no ClamAV-VDB line`
  for (const [name, data] of files) {
    if (name === infoName || name === 'COPYING') continue // the licence text is not listed (as in libclamav)
    const want = listed.get(name)
    if (want === undefined) return `${name} is not listed in ${infoName}`
    if (data.length !== want.size || createHash('sha256').update(data).digest('hex') !== want.sha256) return `${name} does not match its size and SHA-256 in ${infoName}`
    listed.delete(name)
  }
  if (listed.size > 0) return `${[...listed.keys()].join(', ')} listed in ${infoName} but missing`
  return { version, key }
}
