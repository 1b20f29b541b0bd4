/// ZIP (PKWARE APPNOTE 6.3), also jar, apk, OOXML, ODF, XPI. Own parser for the container: the
/// central directory (with ZIP64 and self-extractor offsets) is read by hand because the bomb
/// heuristics need it raw: overlapping members (the non-recursive "zbsm" bomb, ClamAV's
/// Heuristics.Zip.OverlappingFiles), encrypted members (Heuristics.Encrypted.Zip), declared sizes
/// checked before decoding. Stored members are zero-copy slices; deflate goes through node:zlib's
/// streaming InflateRaw and bzip2 through unbzip2-stream, both under the budget per output chunk;
/// the methods node lacks (deflate64, implode, LZMA, PPMd, xz, zstd) send the archive to the 7-Zip
/// backend. A zip without a central directory (truncated) is walked through its local headers.
import { createInflateRaw } from 'node:zlib'
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { SliceSource } from './slice.js'
import { decodeStream } from './stream.js'
import { bunzip } from './bzip2.js'
import { sevenZipExtract } from './sevenzip.js'
import type { ChildSink } from './sink.js'

interface Member {
  readonly name: string
  readonly flags: number
  readonly method: number
  readonly packed: number
  readonly size: number
  readonly local: number // offset of the local header
}

const STORED = 0
const DEFLATE = 8
const BZIP2 = 12

const u16 = (b: Buffer, at: number): number => b.readUInt16LE(at)
const u32 = (b: Buffer, at: number): number => b.readUInt32LE(at)

async function buf (source: ByteSource, offset: number, length: number): Promise<Buffer> {
  const bytes = await source.read(offset, length)
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
}

/// ZIP64 extended information (0x0001): the fields whose 32-bit values are 0xffffffff, in order.
function zip64 (extra: Buffer, sizes: { size: number, packed: number, local: number }): void {
  for (let at = 0; at + 4 <= extra.length;) {
    const id = u16(extra, at)
    const len = u16(extra, at + 2)
    if (id === 0x0001) {
      let p = at + 4
      const take = (): number => { const v = p + 8 <= at + 4 + len ? Number(extra.readBigUInt64LE(p)) : 0; p += 8; return v }
      if (sizes.size === 0xffffffff) sizes.size = take()
      if (sizes.packed === 0xffffffff) sizes.packed = take()
      if (sizes.local === 0xffffffff) sizes.local = take()
      return
    }
    at += 4 + len
  }
}

/// The central directory's members, or undefined when there is no usable end record.
async function centralDirectory (source: ByteSource): Promise<Member[] | undefined> {
  const tailLength = Math.min(source.size, 65_535 + 22)
  const tailStart = source.size - tailLength
  const tail = await buf(source, tailStart, tailLength)
  const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]))
  if (eocd === -1 || eocd + 22 > tail.length) return undefined
  let count = u16(tail, eocd + 10)
  let cdSize = u32(tail, eocd + 12)
  let cdOffset = u32(tail, eocd + 16)
  const eocdAt = tailStart + eocd
  if (cdOffset === 0xffffffff || count === 0xffff) {
    const loc = eocd - 20
    if (loc >= 0 && u32(tail, loc) === 0x07064b50) {
      const rec = await buf(source, Number(tail.readBigUInt64LE(loc + 8)), 56)
      if (rec.length === 56 && u32(rec, 0) === 0x06064b50) {
        count = Number(rec.readBigUInt64LE(32))
        cdSize = Number(rec.readBigUInt64LE(40))
        cdOffset = Number(rec.readBigUInt64LE(48))
      }
    }
  }
  // Self-extractors and prepended data shift every offset by the same amount.
  const shift = Math.max(0, eocdAt - (cdOffset + cdSize))
  if (cdSize > source.size) return undefined
  const cd = await buf(source, cdOffset + shift, cdSize)
  const members: Member[] = []
  for (let at = 0; at + 46 <= cd.length && members.length < count;) {
    if (u32(cd, at) !== 0x02014b50) break
    const nameLen = u16(cd, at + 28)
    const extraLen = u16(cd, at + 30)
    const commentLen = u16(cd, at + 32)
    const sizes = { packed: u32(cd, at + 20), size: u32(cd, at + 24), local: u32(cd, at + 42) }
    zip64(cd.subarray(at + 46 + nameLen, at + 46 + nameLen + extraLen), sizes)
    members.push({
      name: cd.toString((u16(cd, at + 8) & 0x800) !== 0 ? 'utf8' : 'latin1', at + 46, at + 46 + nameLen),
      flags: u16(cd, at + 8),
      method: u16(cd, at + 10),
      packed: sizes.packed,
      size: sizes.size,
      local: sizes.local + shift,
    })
    at += 46 + nameLen + extraLen + commentLen
  }
  return members
}

/// Without a central directory: the local headers in order (sizes may be deferred to a data
/// descriptor, flag bit 3; then deflate finds its own end and other methods take the rest).
async function localHeaders (source: ByteSource): Promise<Member[]> {
  const members: Member[] = []
  for (let at = 0; at + 30 <= source.size && members.length < 65_536;) {
    const h = await buf(source, at, 30)
    if (h.length < 30 || u32(h, 0) !== 0x04034b50) break
    const nameLen = u16(h, 26)
    const extraLen = u16(h, 28)
    const name = (await buf(source, at + 30, nameLen)).toString('latin1')
    const deferred = (u16(h, 6) & 0x08) !== 0
    const packed = deferred ? source.size - (at + 30 + nameLen + extraLen) : u32(h, 18)
    members.push({ name, flags: u16(h, 6), method: u16(h, 8), packed, size: deferred ? 0 : u32(h, 22), local: at })
    if (deferred) break // the next header's position is unknown without decoding
    at += 30 + nameLen + extraLen + packed
  }
  return members
}

/// Where a member's data starts: after its local header's own name and extra field.
async function dataOffset (source: ByteSource, m: Member): Promise<number | undefined> {
  const h = await buf(source, m.local, 30)
  if (h.length < 30 || u32(h, 0) !== 0x04034b50) return undefined
  return m.local + 30 + u16(h, 26) + u16(h, 28)
}

/// Members whose local ranges overlap one another: a zip bomb that reuses one compressed kernel.
function overlaps (members: readonly Member[]): boolean {
  const spans = members.filter(m => m.packed > 0).map(m => [m.local, m.local + 30 + m.packed] as const).sort((a, b) => a[0] - b[0])
  for (let i = 1; i < spans.length; i++) {
    const prev = spans[i - 1]
    const cur = spans[i]
    if (prev !== undefined && cur !== undefined && cur[0] < prev[1]) return true
  }
  return false
}

async function decode (source: ByteSource, m: Member, start: number, budget: ScanBudget): Promise<Layer | undefined> {
  const packed = new SliceSource(source, start, m.packed)
  if (m.method === STORED) {
    if (!budget.admits(packed.size) || !budget.consume(packed.size, 0)) return undefined
    return { name: m.name, source: packed }
  }
  let sink: ChildSink
  if (m.method === DEFLATE) sink = (await decodeStream(packed.chunks(256 * 1024), createInflateRaw({ chunkSize: 64 * 1024 }), budget, Math.max(1, m.packed))).sink
  else sink = await bunzip(packed.chunks(64 * 1024), budget, Math.max(1, m.packed))
  return sink.layer(m.name)
}

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  const central = await centralDirectory(source)
  const members = central ?? await localHeaders(source)
  if (central === undefined) budget.report('Heuristics.Broken.Zip', 'broken')
  if (overlaps(members)) {
    budget.report('Heuristics.Zip.OverlappingFiles', 'heuristic')
    return
  }
  const files = members.filter(m => !m.name.endsWith('/'))
  if (files.some(m => (m.flags & 1) !== 0)) budget.report('Heuristics.Encrypted.Zip', 'encrypted')
  const plain = files.filter(m => (m.flags & 1) === 0)
  if (plain.some(m => m.method !== STORED && m.method !== DEFLATE && m.method !== BZIP2)) {
    yield * sevenZipExtract(source, budget, 'Zip')
    return
  }
  for (const m of plain) {
    if (!budget.alive()) return
    if (m.size > 0 && !budget.admits(m.size)) { if (!budget.alive()) return; continue }
    const start = await dataOffset(source, m)
    if (start === undefined) continue
    const layer = await decode(source, m, start, budget)
    if (layer !== undefined) yield layer
  }
}

export const zipHandler: FormatHandler = { type: 'zip', extract }
