/// ZIP (PKWARE APPNOTE 6.3), also jar, apk, OOXML, ODF, XPI. Own parser for the container: the
/// central directory (with ZIP64 and self-extractor offsets) is read by hand because the bomb
/// heuristics need it raw: overlapping members (the non-recursive "zbsm" bomb, ClamAV's
/// Heuristics.Zip.OverlappingFiles), encrypted members (Heuristics.Encrypted.Zip), declared sizes
/// checked before decoding. Stored members are zero-copy slices; deflate goes through node:zlib
/// (inflate.ts: one call for a member that fits in memory, else streaming) and bzip2 through
/// unbzip2-stream, both under the budget per output chunk; the methods node lacks (deflate64,
/// implode, LZMA, PPMd, xz, zstd) send the archive to the 7-Zip backend. Damaged zips are read as
/// ClamAV reads them: the central directory pass, then a pass over local headers found by signature
/// outside the known members (no or lying central directory, prepended or inserted data); truncated
/// deflate keeps what inflated; CRCs are not required to match; an encryption flag on a member that
/// inflates to its CRC is ignored.
import { crc32 } from 'node:zlib'
import type { FormatHandler, HandlerEnv, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { SliceSource } from './slice.js'
import { inflateRawInto } from './inflate.js'
import { bunzip } from './bzip2.js'
import type { ChildSink } from './sink.js'
import { plausibleStart } from '../embedded.js'

interface Member {
  readonly name: string
  readonly flags: number
  readonly method: number
  readonly packed: number
  readonly size: number
  readonly local: number // offset of the local header
  readonly crc: number
}

/// [start, end) of bytes a member occupies (header and data).
type Span = readonly [number, number]

const maxMembers = 65_536

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
      crc: u32(cd, at + 16),
    })
    at += 46 + nameLen + extraLen + commentLen
  }
  return members
}

/// The local headers the central directory does not account for (ClamAV's second pass): found by
/// their signature anywhere outside the members already known, so a zip whose central directory is
/// missing, truncated or lies about offsets, or that has data prepended or inserted, is still read.
/// Sizes may be deferred to a data descriptor (flag bit 3) or lie: deflate finds its own end, and
/// other methods take the bytes up to the next header.
async function localHeaders (source: ByteSource, known: readonly Span[]): Promise<Member[]> {
  const members: Member[] = []
  const signature = Buffer.from([0x50, 0x4b, 0x03, 0x04])
  const seen = new Set<number>()
  const chunk = 1 << 20
  for (const [gapStart, gapEnd] of gaps(known, source.size)) {
    for (let from = gapStart; from < gapEnd && seen.size < maxMembers; from += chunk - 3) {
      const part = await buf(source, from, Math.min(chunk, gapEnd - from + 3))
      for (let i = part.indexOf(signature); i !== -1 && seen.size < maxMembers; i = part.indexOf(signature, i + 1)) {
        if (from + i < gapEnd) seen.add(from + i)
      }
    }
  }
  const starts = [...seen].sort((a, b) => a - b)
  for (const [i, at] of starts.entries()) {
    const h = await buf(source, at, 30)
    // Four bytes turn up by chance in compressed data: only what reads as a header counts.
    if (!plausibleStart(h)) continue
    const nameLen = u16(h, 26)
    const extraLen = u16(h, 28)
    const data = at + 30 + nameLen + extraLen
    if (nameLen === 0 || data > source.size) continue
    const name = (await buf(source, at + 30, nameLen)).toString('latin1')
    const untilNext = (starts[i + 1] ?? source.size) - data
    const declared = u32(h, 18)
    const deferred = (u16(h, 6) & 0x08) !== 0
    const packed = deferred || declared === 0 || declared > untilNext ? untilNext : declared
    members.push({ name, flags: u16(h, 6), method: u16(h, 8), packed, size: deferred ? 0 : u32(h, 22), crc: u32(h, 14), local: at })
  }
  return members
}

/// The parts of [0, size) no span covers, in order.
function gaps (spans: readonly Span[], size: number): Span[] {
  const out: Span[] = []
  let at = 0
  for (const [start, end] of [...spans].sort((a, b) => a[0] - b[0])) {
    if (start > at) out.push([at, Math.min(start, size)])
    at = Math.max(at, end)
  }
  if (at < size) out.push([at, size])
  return out
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

interface Decoded { readonly layer: Layer | undefined, readonly broken: string | undefined }

/// One member's bytes. Deflate reads up to the next member's header (`end`), not to the declared
/// packed size: it finds its own end, so a member whose size lies is still read whole.
async function decode (source: ByteSource, m: Member, start: number, end: number, budget: ScanBudget): Promise<Decoded> {
  if (m.method === STORED) {
    // Stored data is as long as the member: when the two declared sizes disagree, one lies, and the
    // plain size is the one that must hold for the member to be read whole.
    const length = m.size > 0 && m.size !== m.packed && start + m.size <= source.size ? m.size : m.packed
    const packed = new SliceSource(source, start, length)
    if (!budget.admits(packed.size) || !budget.consume(packed.size, 0)) return { layer: undefined, broken: undefined }
    const broken = start + length > source.size ? 'member data truncated' : length !== m.packed ? `stored sizes disagree (${m.packed} packed, ${m.size} plain)` : undefined
    return { layer: { name: m.name, source: packed }, broken }
  }
  let sink: ChildSink
  let broken: string | undefined
  if (m.method === DEFLATE) {
    const input = new SliceSource(source, start, Math.max(end, start + m.packed) - start)
    const result = await inflateRawInto(input, budget, { packed: Math.max(1, m.packed), sizeHint: m.size })
    sink = result.sink
    broken = result.broken
  } else {
    ({ sink, broken } = await bunzip(new SliceSource(source, start, m.packed).chunks(64 * 1024), budget, Math.max(1, m.packed)))
  }
  return { layer: sink.layer(m.name), broken }
}

/// The CRC-32 of a decoded member, read in chunks (it may be spooled).
async function crcOf (layer: Layer | undefined): Promise<number | undefined> {
  if (layer === undefined) return undefined
  let crc = 0
  for await (const chunk of layer.source.chunks(1 << 20)) crc = crc32(chunk, crc)
  return crc
}

async function * extract (source: ByteSource, budget: ScanBudget, env: HandlerEnv): AsyncIterable<Layer> {
  const central = await centralDirectory(source)
  const broken = (detail: string): void => { budget.report('Heuristics.Broken.Zip', 'broken', detail) }
  if (central === undefined) broken('no usable central directory')
  const listed = central ?? []
  if (overlaps(listed)) {
    budget.report('Heuristics.Zip.OverlappingFiles', 'heuristic')
    return
  }
  // Members whose local header is not where the central directory says are read by the local pass.
  const placed: Array<{ m: Member, start: number }> = []
  for (const m of listed) {
    const start = await dataOffset(source, m)
    if (start === undefined) broken(`${m.name}: no local header at offset ${m.local}`)
    else placed.push({ m, start })
  }
  const spans: Span[] = placed.map(({ m, start }) => [m.local, start + m.packed])
  const found = await localHeaders(source, spans)
  if (central !== undefined && found.length > 0) broken(`${found.length} local header(s) outside the central directory`)
  const all = [...placed.map(p => p.m), ...found].filter(m => !m.name.endsWith('/'))
  if (all.some(m => m.method !== STORED && m.method !== DEFLATE && m.method !== BZIP2 && (m.flags & 1) === 0)) {
    yield * env.sevenZip.extract(source, budget, 'Zip')
    return
  }
  const starts = new Map(placed.map(p => [p.m, p.start]))
  // Where each member's bytes must end at the latest: the next header of any member.
  const locals = [...new Set(all.map(m => m.local))].sort((a, b) => a - b)
  const next = new Map(locals.map((l, i) => [l, locals[i + 1] ?? source.size]))
  const endOf = (m: Member): number => next.get(m.local) ?? source.size
  for (const m of all) {
    if (!budget.alive()) return
    if (m.size > 0 && !budget.admits(m.size)) { if (!budget.alive()) return; continue }
    const start = starts.get(m) ?? await dataOffset(source, m)
    if (start === undefined) continue
    const encrypted = (m.flags & 1) !== 0
    if (encrypted && m.method !== STORED && m.method !== DEFLATE) { budget.report('Heuristics.Encrypted.Zip', 'encrypted'); continue }
    const { layer, broken: why } = await decode(source, m, start, endOf(m), budget)
    // An encryption flag is only believed when the data does not read as the plain member it
    // claims to be (the CRC says so): a payload hidden behind a fake flag is still scanned.
    if (encrypted && (why !== undefined || await crcOf(layer) !== m.crc)) {
      budget.report('Heuristics.Encrypted.Zip', 'encrypted')
      if (m.method !== STORED) { layer?.release?.(); continue }
    } else if (why !== undefined) broken(`${m.name}: ${why}`)
    if (layer !== undefined) yield layer
  }
}

export const zipHandler: FormatHandler = { type: 'zip', extract }
