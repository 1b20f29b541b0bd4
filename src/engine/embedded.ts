/// Archives embedded in an object of another type: self-extractors, polyglots, and archives with
/// junk prepended to hide them from a scanner that only looks at magic bytes at offset 0. ClamAV
/// finds these while it scans the raw bytes (its ZIPSFX / RARSFX / 7ZSFX file-type signatures, any
/// offset); this is the same idea: the walk feeds each layer's chunks through an EmbeddedProbe and
/// then walks from the first plausible archive start as a child of the layer.

import { tarChecksumOk } from './filetype.js'

/// `at`: where the magic sits within the archive's first header (tar's is at 257). Where each is
/// looked for: an archive hidden behind a short prefix starts within the first 64 KiB (`head`); a zip
/// appended to something else (polyglots, jar/apk tricks, self-extractors) ends with its end of
/// central directory record within the last 64 KiB + 22 bytes (`tail`, where unzip and ClamAV's zip
/// reader look for it), and that record says where the archive starts. Each magic costs an indexOf
/// pass over its window only: a pass over a whole 1 MiB body cost ~0.4-0.65 ms in a worker, about
/// 10 % of the CPU per 1 MiB request (BENCHMARKS.md, issue #10's gate). Self-extracting executables
/// are PE files, which have a handler of their own and never come here.
interface Magic { readonly type: 'zip' | 'rar' | '7z' | 'tar' | 'zip-end', readonly bytes: Buffer, readonly at: number, readonly where: 'head' | 'tail' }

const window = 64 << 10
/// The end of central directory record without its comment; the comment is at most 65,535 bytes.
const eocdBytes = 22

/// Also compiled into the DB as rules (matcher/embedded-rules.ts), in this order.
export const embeddedMagics: readonly Magic[] = [
  { type: 'zip', bytes: Buffer.from([0x50, 0x4b, 0x03, 0x04]), at: 0, where: 'head' },
  { type: 'rar', bytes: Buffer.from('Rar!\x1a\x07', 'latin1'), at: 0, where: 'head' },
  { type: '7z', bytes: Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]), at: 0, where: 'head' },
  { type: 'tar', bytes: Buffer.from('ustar', 'latin1'), at: 257, where: 'head' },
  { type: 'zip-end', bytes: Buffer.from([0x50, 0x4b, 0x05, 0x06]), at: 0, where: 'tail' },
]

/// Bytes plausibleStart() needs (a whole tar header).
export const probeBytes = 512

const carry = Math.max(...embeddedMagics.map(m => m.bytes.length)) - 1

/// Finds archive starts (> 0) at the head and zip end records at the tail of a stream of chunks.
export class EmbeddedProbe {
  #offset = 0
  #tail: Buffer = Buffer.alloc(0)
  /// Stream offsets where each window begins and ends (the tail window needs the stream's size).
  readonly #windows: Record<Magic['where'], readonly [number, number]>
  /// Candidate starts, first first; a few, since the first may be a stray constant.
  readonly found: number[] = []
  /// Offsets of zip end of central directory records in the tail; resolve with zipStartsFromEnd().
  readonly ends: number[] = []

  constructor (size: number) {
    this.#windows = { head: [0, window], tail: [Math.max(0, size - window - eocdBytes), size] }
  }

  push (chunk: Uint8Array): void {
    const from = this.#offset
    this.#offset += chunk.length
    if (this.found.length >= 4 && this.ends.length >= 4) return
    const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)
    // A magic that straddles two chunks: search the few bytes around the boundary on their own, so
    // the chunk itself is never copied.
    if (this.#tail.length > 0) this.#search(Buffer.concat([this.#tail, view.subarray(0, carry)]), from - this.#tail.length, true)
    this.#search(view, from, false)
    this.#tail = Buffer.from(view.subarray(Math.max(0, view.length - carry)))
  }

  /// The magics in `data` (which begins at stream offset `base`), each only inside its window;
  /// `straddling` keeps only those that cross the boundary (the rest are found in the chunks).
  #search (data: Buffer, base: number, straddling: boolean): void {
    const hits: number[] = []
    const ends: number[] = []
    for (const magic of embeddedMagics) {
      const [first, last] = this.#windows[magic.where]
      const lo = Math.max(0, first - base)
      const hi = Math.min(data.length, last - base + magic.bytes.length)
      if (lo >= hi) continue
      const span = data.subarray(lo, hi)
      for (let at = nextMagic(span, magic, 0); at !== -1 && hits.length + ends.length < 8; at = nextMagic(span, magic, at + 1)) {
        const pos = lo + at
        if (straddling && (pos >= this.#tail.length || pos + magic.bytes.length <= this.#tail.length)) continue
        const start = base + pos - magic.at
        if (magic.type === 'zip-end') ends.push(start)
        else if (start > 0) hits.push(start)
      }
    }
    for (const at of hits.sort((a, b) => a - b)) if (!this.found.includes(at) && this.found.length < 4) this.found.push(at)
    // The last record is the archive's own: earlier ones may be inside a stored member.
    for (const at of ends.sort((a, b) => b - a)) if (!this.ends.includes(at) && this.ends.length < 4) this.ends.push(at)
  }
}

type Read = (offset: number, length: number) => Promise<Uint8Array>

/// Where a zip whose end record sits at `end` starts. The record gives the central directory's size
/// and its offset from the archive's start, and the directory ends where the record begins: an
/// archive appended to other bytes starts at (record - size - offset). A self-extractor whose
/// offsets were rewritten to count from the file's start (`zip -A`) gives 0 there; its first
/// directory entry then names its first local header, which is the archive's start.
export async function zipStartsFromEnd (read: Read, end: number): Promise<number[]> {
  const record = Buffer.from(await read(end, eocdBytes))
  if (record.length < eocdBytes) return []
  const dirSize = record.readUInt32LE(12)
  const dirOffset = record.readUInt32LE(16)
  const dirStart = end - dirSize
  if (dirStart < 0) return []
  const starts = [dirStart - dirOffset]
  const entry = Buffer.from(await read(dirStart, 46))
  if (entry.length === 46 && entry.readUInt32LE(0) === 0x02014b50) starts.push(entry.readUInt32LE(42))
  return starts.filter(at => at > 0 && at < end)
}

/// Whether a small object holds an archive magic past its start or a zip end record
/// (Engine.scanLeaf leaves those to scan()).
export function hasEmbeddedMagic (bytes: Uint8Array): boolean {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  for (const magic of embeddedMagics) {
    const found = magic.where === 'head'
      ? nextMagic(b.subarray(0, window + magic.bytes.length), magic, magic.at + 1)
      : nextMagic(b.subarray(Math.max(0, b.length - window - eocdBytes)), magic, 0)
    if (found !== -1) return true
  }
  return false
}

/// What hasEmbeddedMagic says, from the magics the leaf's anchor scan found (bit i: embeddedMagics[i]
/// somewhere in the body, matcher/embedded-rules.ts). It may say yes where hasEmbeddedMagic says no
/// (a magic at offset 0; the walk then decides, as it would have), never the other way: tar's `ustar`
/// counts only in a body that holds a NUL byte, as nextMagic has it.
export function embeddedMagicFound (found: number, bytes: Uint8Array): boolean {
  if (found === 0) return false
  return (found & ~tarBit) !== 0 || bytes.indexOf(0) !== -1
}

const tarBit = 1 << embeddedMagics.findIndex(m => m.type === 'tar')

/// The first offset >= `from` where `magic` lies whole in `span`, or -1. An indexOf of the magic
/// itself restarts at every occurrence of its first byte ('P', 'R', '7', 'u' are common in text):
/// five such passes cost ~9 µs per 4 KiB of text, 10 % of matching it with the peer-scale DB, and
/// every small body passes here on the I/O thread. So a binary magic is looked for by two of its
/// control bytes, which text does not hold, and verified around the hit (5 passes: ~3.5 µs); tar's
/// 'ustar' only where the span holds a NUL byte (a tar header is mostly NULs; text has none).
function nextMagic (span: Buffer, magic: Magic, from: number): number {
  const length = magic.bytes.length
  if (magic.type === 'tar') return span.indexOf(0) === -1 ? -1 : span.indexOf(magic.bytes, from)
  const key = rareKeys[magic.type]
  for (let hit = span.indexOf(key.bytes, from + key.at); hit !== -1; hit = span.indexOf(key.bytes, hit + 1)) {
    const start = hit - key.at
    if (start + length <= span.length && span.compare(magic.bytes, 0, length, start, start + length) === 0) return start
  }
  return -1
}

/// Two control bytes of each binary magic and where they sit in it (see nextMagic).
const rareKeys: Record<Exclude<Magic['type'], 'tar'>, { readonly bytes: Buffer, readonly at: number }> = {
  zip: { bytes: Buffer.from([0x03, 0x04]), at: 2 },
  'zip-end': { bytes: Buffer.from([0x05, 0x06]), at: 2 },
  rar: { bytes: Buffer.from([0x1a, 0x07]), at: 4 },
  '7z': { bytes: Buffer.from([0x27, 0x1c]), at: 4 },
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
