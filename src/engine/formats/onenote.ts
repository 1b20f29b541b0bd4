/// Microsoft OneNote sections (.one): the files embedded in a page (attachments, pictures), which in
/// 2023 carried much mail-borne malware, become layers. Own parser from the public descriptions
/// ([MS-ONESTORE], [MS-FSSHTTPB]); no npm library reads OneNote.
///
/// Two packagings exist. The revision-store file (OneNote 2007 and 2010+ desktop) keeps every
/// embedded file in a FileDataStoreObject: a GUID header, a 64-bit length, the bytes padded to 8,
/// a GUID footer ([MS-ONESTORE] 2.6.13). Those objects are found by their header GUID wherever they
/// lie, as the file-node lists that point to them may be damaged or hostile; the length is checked
/// against the object and the footer confirms it. The alternative packaging (web exports, files from
/// OneNote for the web, [MS-ONESTORE] 2.8) holds an [MS-FSSHTTPB] stream; its embedded files are
/// "Object Data BLOB" stream objects (type 0x02), whose header and binary-item length must agree.
/// Blobs split into data-element fragments (FSSHTTPB's >1 MiB chunking) are scanned per piece.
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { SliceSource } from './slice.js'
import { findBytes } from './find-bytes.js'

const guid = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'))
/// {BDE316E7-2665-4511-A4C4-8D4D0B7A9EAC} and {71FBA722-0F79-4A0B-BB13-899256426B24}, as stored.
const fileDataHeader = guid('e716e3bd65261145a4c48d4d0b7a9eac')
const fileDataFooter = guid('22a7fb71790f0b4abb13899256426b24')
/// guidFileFormat at offset 0x30 of the alternative packaging: {638DE92F-A6D4-4BC1-9A36-B3FC2511A5B7}.
const packagingFormat = guid('2fe98d63d4a6c14b9a36b3fc2511a5b7')

const broken = 'Heuristics.Broken.OneNote'

/// FileDataStoreObject: guidHeader(16) cbLength(u64) unused(u32) reserved(u64) FileData, padding to a
/// multiple of 8 bytes from guidHeader, guidFooter(16).
async function * revisionStoreFiles (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  let n = 0
  for await (const at of findBytes(source, fileDataHeader, () => budget.alive())) {
    const head = Buffer.from(await source.read(at + 16, 8))
    if (head.length < 8) return
    const length = Number(head.readBigUInt64LE(0))
    const data = at + 36
    if (length === 0) continue
    if (length > source.size - data) { budget.report(broken, 'broken', `FileDataStoreObject at ${at} declares ${length} bytes, ${Math.max(0, source.size - data)} present`); continue }
    // The object (36-byte header, data, padding) is a multiple of 8 bytes long, then the footer.
    const footerAt = at + Math.ceil((36 + length) / 8) * 8
    if (!Buffer.from(await source.read(footerAt, 16)).equals(fileDataFooter)) budget.report(broken, 'broken', `FileDataStoreObject at ${at} has no footer GUID`)
    const layer = slice(source, budget, data, length, `attachment-${n++}`)
    if (layer !== undefined) yield layer
    else if (!budget.alive()) return
  }
}

/// [MS-FSSHTTPB] 2.2.1.1 compact unsigned 64-bit integer: the low bits of the first byte say its width.
function compactUint64 (b: Buffer, at: number): { value: number, width: number } | undefined {
  const first = b[at]
  if (first === undefined) return undefined
  if (first === 0) return { value: 0, width: 1 }
  if (first === 0x80) return at + 9 <= b.length ? { value: Number(b.readBigUInt64LE(at + 1)), width: 9 } : undefined
  const width = countTrailingZeros(first) + 1
  if (at + width > b.length) return undefined
  let value = 0
  for (let i = width - 1; i >= 0; i--) value = value * 256 + (b[at + i] as number)
  return { value: Math.floor(value / 2 ** width), width }
}

function countTrailingZeros (byte: number): number {
  let n = 0
  while ((byte & 1) === 0 && n < 8) { byte >>= 1; n++ }
  return n
}

const objectDataBlob = 0x02

/// An Object Data BLOB stream object starting at `at` of the window: where its bytes are and how many.
/// 16-bit header: type(2)=0 compound(1) type(6) length(7); 32-bit: type(2)=2 compound(1) type(14)
/// length(15), 32767 meaning a compact uint64 length follows. The content is a binary item.
function blobAt (w: Buffer, at: number): { data: number, length: number } | undefined {
  let declared: number
  let next: number
  if (w[at] === 0x10 && ((w[at + 1] ?? 1) & 1) === 0) {
    declared = (w[at + 1] as number) >> 1
    next = at + 2
  } else if (w[at] === (0x02 | (objectDataBlob << 3)) && w[at + 1] === 0 && ((w[at + 2] ?? 1) & 1) === 0 && at + 4 <= w.length) {
    declared = w.readUInt32LE(at) >>> 17
    next = at + 4
    if (declared === 32767) {
      const large = compactUint64(w, next)
      if (large === undefined) return undefined
      declared = large.value
      next += large.width
    }
  } else return undefined
  const item = compactUint64(w, next)
  if (item === undefined || item.value === 0 || item.width + item.value !== declared) return undefined
  return { data: next + item.width, length: item.value }
}

/// Longest stream object header plus binary-item length: 4 + 9 + 9 bytes.
const headerReach = 22
const chunkSize = 1 << 20

async function * packagedFiles (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  let n = 0
  // A blob's bytes are not searched for further headers: an attachment is not a stream.
  let resume = 0x44
  for (let base = 0x44; base < source.size; base += chunkSize) {
    if (!budget.alive()) return
    const w = Buffer.from(await source.read(base, chunkSize + headerReach))
    const found: Array<{ data: number, length: number }> = []
    for (let at = Math.max(0, resume - base); at < Math.min(chunkSize, w.length); at++) {
      if (w[at] !== 0x10 && w[at] !== 0x12) continue
      const blob = blobAt(w, at)
      if (blob === undefined) continue
      if (base + blob.data + blob.length > source.size) {
        budget.report(broken, 'broken', `Object Data BLOB at ${base + at} declares ${blob.length} bytes, ${Math.max(0, source.size - base - blob.data)} present`)
        continue
      }
      found.push({ data: base + blob.data, length: blob.length })
      resume = base + blob.data + blob.length
      at = resume - base - 1
    }
    for (const blob of found) {
      const layer = slice(source, budget, blob.data, blob.length, `attachment-${n++}`)
      if (layer !== undefined) yield layer
      else if (!budget.alive()) return
    }
  }
}

function slice (source: ByteSource, budget: ScanBudget, start: number, length: number, name: string): Layer | undefined {
  if (!budget.admits(length) || !budget.consume(length, 0)) return undefined
  return { name, source: new SliceSource(source, start, length) }
}

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  const format = Buffer.from(await source.read(0x30, 16))
  if (format.equals(packagingFormat)) yield * packagedFiles(source, budget)
  else yield * revisionStoreFiles(source, budget)
}

export const oneNoteHandler: FormatHandler = { type: 'onenote', extract }
