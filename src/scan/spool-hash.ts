/// SHA-256 of a spooled body, computed while it arrives, for the clean-verdict cache
/// (verdict-cache.ts). Hashing a spool file after the fact means reading it back: a repeated
/// 16 MiB body answered from the cache still cost a 16 MiB read and hash (~40 ms) before its
/// answer. Here the bytes are hashed as the sink writes them, so the key is ready when the body is.
///
/// Unique bodies must not pay for it (SHA-256 runs at ~1 GB/s here, 10-20 % of a scan), so the
/// same doorkeeper idea as the cache's applies, decided early: the first `printBytes` of the body
/// are hashed (a few µs), and that head digest plus the declared size is asked about. A head seen
/// before: hashing goes on to the end. A new head: hashing stops there, and the cache falls back to
/// its own fingerprint and, on a later sighting, to hashing the file.
import { createHash, type Hash } from 'node:crypto'

/// Bytes of the head whose digest decides whether the whole body is hashed.
export const printBytes = 16 * 1024

/// Told the head digest and the declared size (when the message had one); true: hash it all.
export type HashAdmission = (headDigest: string, expectedSize: number | undefined) => boolean

export class SpoolHash {
  readonly #admit: HashAdmission
  readonly #expectedSize: number | undefined
  #hash: Hash | undefined = createHash('sha256')
  #headBytes = 0
  #deciding = true

  constructor (admit: HashAdmission, expectedSize: number | undefined) {
    this.#admit = admit
    this.#expectedSize = expectedSize
  }

  /// The next bytes of the body, in order.
  update (bytes: Uint8Array): void {
    const hash = this.#hash
    if (hash === undefined || bytes.length === 0) return
    if (this.#deciding) {
      const need = printBytes - this.#headBytes
      if (bytes.length < need) {
        hash.update(bytes)
        this.#headBytes += bytes.length
        return
      }
      hash.update(bytes.subarray(0, need))
      this.#headBytes = printBytes
      this.#deciding = false
      if (!this.#admit(hash.copy().digest('base64'), this.#expectedSize)) {
        this.#hash = undefined
        return
      }
      hash.update(bytes.subarray(need))
      return
    }
    hash.update(bytes)
  }

  /// SHA-256 of everything given (base64), or undefined when the doorkeeper stopped it. A body
  /// shorter than the head was hashed whole before any decision, so it has its digest too.
  digest (): string | undefined {
    const hash = this.#hash
    this.#hash = undefined
    return hash?.digest('base64')
  }
}
