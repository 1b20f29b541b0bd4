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

/// One .ndb line: name, target, offset, hex pattern.
export interface BodySignature {
  readonly name: string
  readonly target: Target
  readonly offset: Offset
  readonly pattern: Pattern
}

/// One .ldb subsignature; `patterns` holds more than one when a modifier asks for variants (`::aw`).
export interface SubSignature {
  readonly offset: Offset
  readonly patterns: readonly Pattern[]
}

/// One .ldb line: target description block, logical expression, subsignatures.
export interface LogicalSignature {
  readonly name: string
  readonly target: Target
  readonly fileSize: readonly [number, number] | undefined
  readonly expression: string
  readonly subs: readonly SubSignature[]
}

export interface SignatureSink {
  hash (sig: HashSignature): void
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
  /// Valid lines using features this engine does not implement (PCRE, PE-relative offsets, …).
  unsupported: number
  /// Malformed lines skipped under --lenient.
  skipped: number
  firstSkipReason?: string
}

export function emptyStats (): LoadStats {
  return { files: [], hashes: 0, allows: 0, bodies: 0, logicals: 0, ignored: 0, unsupported: 0, skipped: 0 }
}
