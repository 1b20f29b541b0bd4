/// Reads the golden ICAP request fixtures (test/fixtures/icap/*.request, CRLF preserved), with the
/// EICAR sample spliced in at test time.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { withEicar } from '../../helpers/eicar.js'

export const fixtureDir = fileURLToPath(new URL('../../../../test/fixtures/icap/', import.meta.url))

export function fixtureNames (): string[] {
  return readdirSync(fixtureDir).filter(n => n.endsWith('.request')).map(n => n.slice(0, -'.request'.length)).sort()
}

export function readRequest (name: string): Buffer {
  return withEicar(readFileSync(join(fixtureDir, `${name}.request`)))
}
