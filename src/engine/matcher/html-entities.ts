/// Named HTML character references for the HTML normaliser (htmlnorm.ts): a name (case-sensitive,
/// without `&` and `;`) to its code point, from the `he` library's table (the WHATWG list; ClamAV
/// keeps its own, shorter list of the same names, so a rare name may decode here and not there).
/// Results are cached per thread, bounded: the names a page can make up are unbounded.
/// `he` is loaded on first use (a synchronous require: it is CommonJS): importing it cost every
/// thread that imports the matcher ~100 ms of CPU at start (each scan worker, and `scanwall scan`'s
/// start-up), and only a page with a named reference needs it.
import { createRequire } from 'node:module'
import type heModule from 'he'

let loaded: typeof heModule | undefined
const he = (): typeof heModule => (loaded ??= createRequire(import.meta.url)('he') as typeof heModule)

const cache = new Map<string, number>()
const cacheLimit = 4096

/// The code point of `&name;`, or -1 when the name is not a character reference.
export function entityCodePoint (name: string): number {
  let cp = cache.get(name)
  if (cp !== undefined) return cp
  const ref = `&${name};`
  const decoded = he().decode(ref)
  // One code point, or not a reference ("&ampx;" decodes its legacy "&amp" prefix: not a match).
  cp = decoded !== ref && decoded.length === [...decoded].length && [...decoded].length === 1 ? decoded.codePointAt(0) ?? -1 : -1
  if (cache.size < cacheLimit) cache.set(name, cp)
  return cp
}
