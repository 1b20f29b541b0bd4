/// Archives embedded in an object of another type: self-extractors, polyglots, and archives with
/// junk prepended to hide them from a scanner that only looks at magic bytes at offset 0. ClamAV
/// finds these while it scans the raw bytes (its ZIPSFX / RARSFX / 7ZSFX file-type signatures, any
/// offset); this is the same idea: the walk feeds each layer's chunks through an EmbeddedProbe and
/// then walks from the first plausible archive start as a child of the layer.

import { tarChecksumOk } from './filetype.js'

/// `at`: where the magic sits within the archive's first header (tar's is at 257). `within`: how far
/// into the object it is looked for. Each magic costs one indexOf pass of ~0.1 ms per MiB over every
/// layer without a handler (measured: four passes over 1 MiB made a 1 MiB scan 20 % dearer), so only
/// zip, by far the commonest appended or prepended archive (polyglots, jar/apk tricks), is looked for
/// everywhere; the others in the first 64 KiB, where an archive hidden behind a short prefix starts.
/// Self-extracting executables are PE files, which have a handler of their own and never come here.
interface Magic { readonly type: 'zip' | 'rar' | '7z' | 'tar', readonly bytes: Buffer, readonly at: number, readonly within: number }

const everywhere = Number.POSITIVE_INFINITY
const shortPrefix = 64 << 10

const magics: readonly Magic[] = [
  { type: 'zip', bytes: Buffer.from([0x50, 0x4b, 0x03, 0x04]), at: 0, within: everywhere },
  { type: 'rar', bytes: Buffer.from('Rar!\x1a\x07', 'latin1'), at: 0, within: shortPrefix },
  { type: '7z', bytes: Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]), at: 0, within: shortPrefix },
  { type: 'tar', bytes: Buffer.from('ustar', 'latin1'), at: 257, within: shortPrefix },
]

/// Bytes plausibleStart() needs (a whole tar header).
export const probeBytes = 512

const carry = Math.max(...magics.map(m => m.bytes.length)) - 1

/// Finds the first offset (> 0) of any archive magic in a stream of chunks.
export class EmbeddedProbe {
  #offset = 0
  #tail: Buffer = Buffer.alloc(0)
  /// Candidate starts, first first; a few, since the first may be a stray constant.
  readonly found: number[] = []

  push (chunk: Uint8Array): void {
    if (this.found.length >= 4) return
    const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)
    const hits: number[] = []
    // A magic that straddles two chunks: search the few bytes around the boundary on their own, so
    // the chunk itself is never copied (every byte of every layer without a handler passes here).
    if (this.#tail.length > 0) this.#search(Buffer.concat([this.#tail, view.subarray(0, carry)]), this.#offset - this.#tail.length, hits, true)
    this.#search(view, this.#offset, hits, false)
    for (const at of hits.sort((a, b) => a - b)) if (!this.found.includes(at) && this.found.length < 4) this.found.push(at)
    this.#offset += chunk.length
    this.#tail = Buffer.from(view.subarray(Math.max(0, view.length - carry)))
  }

  /// Archive starts of the magics in `data` (which begins at stream offset `base`); `straddling`
  /// keeps only those that cross the boundary (the rest are found in the chunks themselves).
  #search (data: Buffer, base: number, hits: number[], straddling: boolean): void {
    for (const magic of magics) {
      if (base >= magic.within) continue
      // Only up to `within` (plus the magic's own length), also inside one large chunk: a 1 MiB
      // memory body arrives as a single chunk.
      const span = magic.within === everywhere ? data : data.subarray(0, Math.min(data.length, magic.within - base + magic.bytes.length))
      for (let at = span.indexOf(magic.bytes); at !== -1 && hits.length < 8; at = span.indexOf(magic.bytes, at + 1)) {
        if (straddling && (at >= this.#tail.length || at + magic.bytes.length <= this.#tail.length)) continue
        const start = base + at - magic.at
        if (start > 0) hits.push(start)
      }
    }
  }
}

/// Whether a small object holds an archive magic past its start (Engine.scanLeaf leaves those to scan()).
export function hasEmbeddedMagic (bytes: Uint8Array): boolean {
  const probe = new EmbeddedProbe()
  probe.push(bytes)
  return probe.found.length > 0
}

const zipMethods = new Set([0, 1, 6, 8, 9, 12, 14, 19, 93, 95, 98, 99])

/// A magic is four to six bytes and turns up by chance in large binaries: check that what follows
/// reads as the start of that archive before walking it.
export function plausibleStart (head: Uint8Array): boolean {
  const b = Buffer.from(head.buffer, head.byteOffset, head.length)
  if (b.length >= 30 && b.readUInt32LE(0) === 0x04034b50) {
    const nameLength = b.readUInt16LE(26)
    return b.readUInt16LE(4) < 100 && zipMethods.has(b.readUInt16LE(8)) && nameLength > 0 && nameLength <= 4096
  }
  if (b.length >= 7 && b.toString('latin1', 0, 6) === 'Rar!\x1a\x07') return b[6] === 0x00 || b[6] === 0x01
  if (b.length >= 8 && b[0] === 0x37 && b[1] === 0x7a) return b[6] === 0x00 && (b[7] ?? 255) <= 4
  if (b.length >= 512 && b.toString('latin1', 257, 262) === 'ustar') return tarChecksumOk(b)
  return false
}
