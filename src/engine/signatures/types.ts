/// Signature records as loaded from ClamAV-format files: plain data, structured-clone safe, so the
/// main thread can load and validate once and hand the set to every worker.

export type HashAlgo = 'md5' | 'sha1' | 'sha256'

export interface HashSignature {
  readonly algo: HashAlgo
  readonly hash: string // lower-case hex
  readonly size: number | '*'
  readonly name: string
}

export interface BodySignature {
  readonly name: string
  readonly target: number
  readonly offset: '*' | number
  readonly hex: string // lower-case hex of the literal pattern
}

export interface SignatureSet {
  /// Hash of every loaded file's name and content: changes whenever the signature set changes.
  readonly version: string
  readonly loadedAt: number
  readonly files: readonly string[]
  readonly hashes: readonly HashSignature[]
  readonly bodies: readonly BodySignature[]
}

export function signatureCount (set: SignatureSet): number {
  return set.hashes.length + set.bodies.length
}
