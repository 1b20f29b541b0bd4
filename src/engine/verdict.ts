/// The data that crosses the worker boundary: what was scanned and what was found.
/// Pure data (structured-clone safe); shared by workers, the scan service, policy and protocols.
import type { ErrorCode } from '../errors.js'

/// One thing the engine found. `path` names the container chain, outermost first
/// (['mail.eml', 'a.zip', 'x.exe']); the object itself is [] .
export interface Finding {
  readonly name: string
  readonly kind: 'signature' | 'heuristic' | 'limit' | 'encrypted' | 'broken'
  readonly path: readonly string[]
  /// For `broken`: what went wrong (the decoder's or handler's error text). The worker has no
  /// logger, so the text travels here and the scan service logs it once per scan.
  readonly detail?: string
}

export interface ScanStats {
  readonly bytes: number
  readonly objects: number
  readonly depth: number
  readonly ms: number
}

/// Which status a scan gets, strongest first (Engine.scan applies it):
///   infected   a signature, or a heuristic that blocks like one (overlapping zip entries)
///   timeout    the scan ran out of time (MaxScanTime)
///   limit      another limit was exceeded (Heuristics.Limits.Exceeded.*)
///   encrypted  a member could not be read without a password
///   broken     nothing above, but a container or encoding was damaged past what its handler
///              reads (Heuristics.Broken.<Format>): what came before the damage was scanned and
///              is clean, what came after was not seen.
///   clean      everything was read and nothing was found
/// `broken` is a status of its own rather than `clean` with findings so that every caller has to
/// decide about it (policy's switch does not compile without a case for it): a damaged container is
/// what an attacker sends to hide a payload from a scanner that gives up, so it must never pass as
/// an ordinary clean by accident. Broken findings are carried under every status, after the
/// finding that decided it, so the log says what could not be read even when something was found.
/// error / aborted are not from the content: the engine failed (a bug, reported with its code) or
/// the client went away.
export type VerdictStatus = 'clean' | 'infected' | 'limit' | 'encrypted' | 'broken' | 'error' | 'timeout' | 'aborted'

/// A program or archive of code met in the walk and what its signature block says (src/engine/facts/).
/// `signed`: a signature block is present and parses (Authenticode PKCS#7 SignedData; a JAR's
/// META-INF/*.SF with its .RSA/.DSA/.EC block); `signer`: the signing certificate's subject
/// (CN, else O), when one could be read. Nothing here says the signature is valid: see docs/policy.md.
export interface CodeFact {
  readonly kind: 'pe' | 'cab' | 'jar'
  readonly path: readonly string[]
  readonly signed: boolean
  readonly signer?: string
  /// PE: a DLL (an .ocx is a DLL), else a program.
  readonly dll?: boolean
}

/// What the walk learned about the object besides findings, for the policy (type blocking, active
/// content). Bounded: at most maxFactTypes types and maxCodeFacts code entries, whatever the object.
export interface ObjectFacts {
  /// The true types of the layers walked, each once, in the order first met (the object's own first).
  readonly types: readonly string[]
  /// Some member could not be read without a password.
  readonly encrypted: boolean
  /// Executables, CAB files and Java archives met, with their signature facts.
  readonly code: readonly CodeFact[]
  /// An Office document carries VBA macros (an OLE2 VBA storage or an OOXML vbaProject.bin).
  readonly macros: boolean
  /// A text layer starts with #! (a script for an interpreter).
  readonly script: boolean
}

export const maxFactTypes = 32
export const maxCodeFacts = 16

export interface Verdict {
  readonly status: VerdictStatus
  readonly findings: readonly Finding[]
  readonly stats: ScanStats
  /// What the walk learned about the object (absent: not walked, e.g. an oversize body or an error).
  readonly facts?: ObjectFacts
  /// For error/timeout/aborted: the error code from src/errors.ts and why.
  readonly error?: { readonly code: ErrorCode, readonly message: string }
}
