/// Loads a directory of ClamAV-format signature files into a SignatureSet.
/// A malformed line stops the load with `file:line: reason`.
import { readdir, readFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join, extname } from 'node:path'
import { ScanwallError } from '../../errors.js'
import { parseHashLine } from './hdb.js'
import { parseBodyLine } from './ndb.js'
import type { BodySignature, HashSignature, SignatureSet } from './types.js'

const loaders = new Map<string, (line: string) => HashSignature | BodySignature | string>([
  ['.hdb', parseHashLine],
  ['.hsb', parseHashLine],
  ['.ndb', parseBodyLine],
])

export async function loadSignatureDir (dir: string): Promise<SignatureSet> {
  let names: string[]
  try {
    names = (await readdir(dir)).filter(n => loaders.has(extname(n))).sort()
  } catch (err) {
    throw new ScanwallError('SIGDB_INVALID', `${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
  const digest = createHash('sha256')
  const hashes: HashSignature[] = []
  const bodies: BodySignature[] = []
  for (const name of names) {
    const parse = loaders.get(extname(name))
    if (parse === undefined) continue
    const text = await readFile(join(dir, name), 'utf8')
    digest.update(name).update('\0').update(text).update('\0')
    text.split('\n').forEach((raw, i) => {
      const line = raw.trim()
      if (line === '' || line.startsWith('#')) return
      const parsed = parse(line)
      if (typeof parsed === 'string') throw new ScanwallError('SIGDB_INVALID', `${name}:${i + 1}: ${parsed}`)
      if ('algo' in parsed) hashes.push(parsed)
      else bodies.push(parsed)
    })
  }
  if (hashes.length + bodies.length === 0) throw new ScanwallError('SIGDB_INVALID', `${dir}: no signatures found`)
  return { version: digest.digest('hex').slice(0, 16), loadedAt: Date.now(), files: names, hashes, bodies }
}
