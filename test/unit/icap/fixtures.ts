/// Reads the golden ICAP request fixtures (test/fixtures/icap/*.request, CRLF preserved), with the
/// EICAR sample spliced in at test time.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { eicar } from '../../helpers/eicar.js'

export const fixtureDir = fileURLToPath(new URL('../../../../test/fixtures/icap/', import.meta.url))

export function fixtureNames (): string[] {
  return readdirSync(fixtureDir).filter(n => n.endsWith('.request')).map(n => n.slice(0, -'.request'.length)).sort()
}

export function readRequest (name: string): Buffer {
  const raw = readFileSync(join(fixtureDir, `${name}.request`))
  const marker = Buffer.from('@@EICAR@@')
  const parts: Buffer[] = []
  let from = 0
  for (let at = raw.indexOf(marker); at >= 0; at = raw.indexOf(marker, from)) {
    parts.push(raw.subarray(from, at), eicar)
    from = at + marker.length
  }
  parts.push(raw.subarray(from))
  return Buffer.concat(parts)
}
