/// .mdb/.msb PE section hashes: the MD5/SHA-1/SHA-256 of each section's raw data, looked up with the
/// section's raw size as the size, as ClamAV does. Only PE layers of a DB that has such signatures
/// pay for it (once per layer, after the stream), from the layout `executable/read.ts` reads.
import { createHash } from 'node:crypto'
import { readExecutable } from '../executable/read.js'
import type { HashTable } from './hashtab.js'

export function sectionHashNames (tables: readonly HashTable[], bytes: Uint8Array, name: (id: number) => string): string[] {
  const exe = readExecutable(bytes)
  if (exe?.format !== 'pe') return []
  const out: string[] = []
  for (const s of exe.sections) {
    if (s.rawSize <= 0 || s.rawOffset + s.rawSize > bytes.length) continue
    const data = bytes.subarray(s.rawOffset, s.rawOffset + s.rawSize)
    for (const t of tables) {
      if (t.count === 0 || !t.wants(s.rawSize)) continue
      for (const hit of t.lookup(createHash(t.algo).update(data).digest(), s.rawSize)) if (!hit.allow) out.push(name(hit.name))
    }
  }
  return out
}
