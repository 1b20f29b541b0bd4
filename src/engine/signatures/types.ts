/// Signature records as parsed from ClamAV-format files, before compilation. Loaders stream them
/// into a SignatureSink (so an 8-million-line .hdb never exists as 8 million objects); the matcher's
/// compiler is the sink that matters.
import type { Offset } from './offset.js'
import type { Pattern } from './hex.js'

export type HashAlgo = 'md5' | 'sha1' | 'sha256'

export interface HashSignature {
  readonly algo: HashAlgo
  readonly hash: string // lower-case hex
  readonly size: number | '*'
  readonly name: string
  /// .fp/.sfp: a match makes the object clean instead of infected.
  readonly allow: boolean
}

/// ClamAV target type number (0 any, 1 PE, 2 OLE2, 3 HTML, 4 mail, 5 graphics, 6 ELF, 7 text, …).
export type Target = number

/// One .ndb line: name, target, offset, hex pattern. `ext`: it needs checks the streaming matcher
/// leaves to matcher/ext.ts (an executable offset, an edge anchor); `source` is the line itself.
export interface BodySignature {
  readonly name: string
  readonly target: Target
  readonly offset: Offset
  readonly pattern: Pattern
  readonly ext: boolean
  readonly source: string
}

/// One .ldb hex subsignature; `patterns` holds more than one when a modifier asks for variants
/// (`::aw`), `wide[i]` says whether patterns[i] is the UTF-16 one (for `::f`).
export interface HexSub {
  readonly k: 'hex'
  readonly offset: Offset
  readonly patterns: readonly Pattern[]
  readonly wide: readonly boolean[]
  readonly fullword: boolean
}

/// `[offset:]Trigger/regex/flags` (signatures/pcre.ts).
export interface PcreSub {
  readonly k: 'pcre'
  readonly offset: Offset
  readonly trigger: string
  readonly regex: string
  readonly flags: string
}

/// `n(>>off#options#comparisons)` (signatures/bytecmp.ts).
export interface ByteCompareSub {
  readonly k: 'bcmp'
  readonly trigger: number
  readonly offset: number
  readonly base: 'h' | 'd' | 'a' | 'i'
  readonly little: boolean
  readonly exact: boolean
  readonly bytes: number
  readonly comparisons: ReadonlyArray<{ readonly op: '<' | '>' | '=', readonly value: bigint }>
}

export type SubSignature = HexSub | PcreSub | ByteCompareSub

/// TDB conditions beyond Target and FileSize (ranges inclusive; CL_TYPE names as ClamAV spells them).
export interface Conditions {
  readonly entryPoint?: readonly [number, number]
  readonly sections?: readonly [number, number]
  readonly container?: string
  readonly intermediates?: readonly string[]
}

/// One .ldb line: target description block, logical expression, subsignatures. `ext`: some
/// subsignature or condition needs matcher/ext.ts; `source` is the line itself (re-parsed there).
export interface LogicalSignature {
  readonly name: string
  readonly target: Target
  readonly fileSize: readonly [number, number] | undefined
  readonly conditions: Conditions
  readonly expression: string
  readonly subs: readonly SubSignature[]
  readonly ext: boolean
  readonly source: string
}

export interface SignatureSink {
  hash (sig: HashSignature): void
  /// .mdb/.msb: the hash of one PE section's raw data.
  sectionHash (sig: HashSignature): void
  body (sig: BodySignature): void
  logical (sig: LogicalSignature): void
  /// .ign2: a signature name to drop, wherever it comes from.
  ignore (name: string): void
}

export interface LoadOptions {
  /// Skip malformed lines (counting them) instead of failing the load.
  readonly lenient: boolean
}

export interface LoadStats {
  files: string[]
  hashes: number
  allows: number
  bodies: number
  logicals: number
  ignored: number
  /// Valid lines using features this engine does not implement, in total and by reason.
  unsupported: number
  unsupportedReasons: Record<string, number>
  /// Malformed lines skipped under --lenient.
  skipped: number
  firstSkipReason?: string
}

export function emptyStats (): LoadStats {
  return { files: [], hashes: 0, allows: 0, bodies: 0, logicals: 0, ignored: 0, unsupported: 0, unsupportedReasons: {}, skipped: 0 }
}
