/// `.info` files: a DB's own list of its files with sizes and SHA-256s (`name:size:sha256`, after a
/// `ClamAV-VDB:` header line and before a `DSIG:` line in a CVD). Checked at load: a listed file
/// that is missing or differs is a damaged or tampered DB, refused as SIGDB_INVALID. (The DSIG line
/// is the CVD signer's; the CVD's own signature is checked by signatures/cvd.ts.)
import { createHash } from 'node:crypto'

export interface InfoEntry { readonly name: string, readonly size: number, readonly sha256: string }

export function parseInfo (data: Uint8Array): InfoEntry[] | string {
  const out: InfoEntry[] = []
  const lines = Buffer.from(data).toString('latin1').split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#'))
  for (const [i, line] of lines.entries()) {
    if (line.startsWith('ClamAV-VDB:') || line.startsWith('DSIG:')) continue
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
