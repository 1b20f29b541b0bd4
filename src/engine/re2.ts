/// re2js (RE2's linear-time matching in JavaScript), one copy per thread: every user (PCRE
/// subsignatures, spam and content-filter expression rules) gets it from here. The package ships an
/// ESM and a CommonJS build; the engine's lazy require took the CommonJS one while the filters'
/// static `import` took the ESM one, so a node with the spam or content filter on loaded both on its
/// main thread (~1 MB of code, two RE2JS classes). Loaded on first use, with a synchronous require
/// (a DB's PCRE rules compile synchronously): importing it cost every thread that imports the
/// matcher ~40 ms of CPU at start, and only a DB with PCRE subsignatures or a filter with expression
/// rules needs it.
import { createRequire } from 'node:module'
import type * as Re2Module from 're2js'

export type { RE2JS } from 're2js'

let loaded: typeof Re2Module | undefined

/// The RE2JS class, its module required on the first call.
export const re2js = (): typeof Re2Module.RE2JS => (loaded ??= createRequire(import.meta.url)('re2js') as typeof Re2Module).RE2JS

/// RE2 flags from the letters i (ignore case), m (`^` and `$` at lines), s (`.` matches a newline);
/// other letters are the caller's to check.
export function re2Flags (letters: string): number {
  const RE2JS = re2js()
  return (letters.includes('i') ? RE2JS.CASE_INSENSITIVE : 0) | (letters.includes('m') ? RE2JS.MULTILINE : 0) | (letters.includes('s') ? RE2JS.DOTALL : 0)
}
