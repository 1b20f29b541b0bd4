/// Reads the threat names out of a ClamAV-format signature directory (.hdb: md5:size:name,
/// .ndb: name:target:offset:hex), so tests can check a block page names a threat of the DB in use
/// without hard-coding one engine's naming.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export function signatureNames (dir: string): string[] {
  const names: string[] = []
  for (const file of readdirSync(dir)) {
    const kind = file.endsWith('.hdb') ? 'hdb' : file.endsWith('.ndb') ? 'ndb' : undefined
    if (kind === undefined) continue
    for (const line of readFileSync(join(dir, file), 'latin1').split('\n')) {
      if (line.trim() === '' || line.startsWith('#')) continue
      const fields = line.split(':')
      const name = kind === 'hdb' ? fields[2] : fields[0]
      if (name !== undefined && name !== '') names.push(name.trim())
    }
  }
  return names
}
