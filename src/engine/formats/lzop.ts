/// lzop files (.lzo): a header (name, flags, checksums) and blocks of at most 64 MiB, each LZO1X
/// compressed (lzo1x.ts) or stored when compressing did not pay. Own parser from the lzop file
/// format description; blocks are independent, so memory holds one block at a time.
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { crc32 } from 'node:zlib'
import { ChildSink } from './sink.js'
import { lzo1xDecompress } from './lzo1x.js'

const broken = 'Heuristics.Broken.LZO'
const adler32Data = 0x1
const adler32Packed = 0x2
const extraField = 0x40
const crc32Data = 0x100
const crc32Packed = 0x200
const filter = 0x800
/// lzop's own ceiling for a block.
const maxBlock = 64 << 20

/// Adler-32 (RFC 1950), lzop's default checksum of each block's plain bytes.
function adler32 (data: Uint8Array): number {
  let a = 1
  let b = 0
  for (let i = 0; i < data.length;) {
    // Reduced every 3800 bytes: a and b stay far inside the exact range of a double.
    for (const end = Math.min(data.length, i + 3800); i < end; i++) { a += data[i] as number; b += a }
    a %= 65521
    b %= 65521
  }
  return ((b << 16) | a) >>> 0
}

interface Header { readonly name: string, readonly flags: number, readonly end: number }

/// The file header after the 9-byte magic; fields present depend on the version and the flags.
async function header (source: ByteSource): Promise<Header | string> {
  const h = Buffer.from(await source.read(9, 4096))
  let at = 0
  const need = (n: number): void => { if (at + n > h.length) throw new Error('header truncated') }
  try {
    need(4)
    const version = h.readUInt16BE(at)
    at += 4 // version, library version
    if (version >= 0x0940) at += 2 // version needed to extract
    need(1)
    const method = h[at++] as number
    if (method < 1 || method > 3) return `method ${method} is not LZO1X`
    if (version >= 0x0940) at++ // level
    need(4)
    const flags = h.readUInt32BE(at)
    at += 4
    if ((flags & filter) !== 0) at += 4
    at += 8 // mode, mtime (low)
    if (version >= 0x0940) at += 4 // mtime (high)
    need(1)
    const nameLength = h[at++] as number
    need(nameLength + 4)
    const name = h.toString('latin1', at, at + nameLength)
    at += nameLength + 4 // name, header checksum
    if ((flags & extraField) !== 0) {
      need(4)
      at += 4 + h.readUInt32BE(at) + 4
    }
    return { name, flags, end: 9 + at }
  } catch (err) {
    return err instanceof Error ? err.message : String(err)
  }
}

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  const h = await header(source)
  if (typeof h === 'string') { budget.report(broken, 'broken', h); return }
  const sink = new ChildSink(budget, Math.max(1, source.size))
  let at = h.end
  try {
    for (;;) {
      if (!budget.alive()) return
      const sizes = Buffer.from(await source.read(at, 8))
      if (sizes.length < 4) throw new Error('no end-of-stream block')
      const size = sizes.readUInt32BE(0)
      if (size === 0) break
      if (sizes.length < 8) throw new Error('block header truncated')
      const packed = sizes.readUInt32BE(4)
      if (size > maxBlock || packed > size) throw new Error(`block at ${at}: ${packed} packed, ${size} plain`)
      // The plain bytes' checksum: Adler-32 first when both are there.
      const sums = Buffer.from(await source.read(at + 8, 8))
      const wantAdler = (h.flags & adler32Data) !== 0 ? sums.readUInt32BE(0) : undefined
      const wantCrc = (h.flags & crc32Data) !== 0 ? sums.readUInt32BE(wantAdler === undefined ? 0 : 4) : undefined
      at += 8 + (wantAdler === undefined ? 0 : 4) + (wantCrc === undefined ? 0 : 4)
      if (packed < size) at += ((h.flags & adler32Packed) !== 0 ? 4 : 0) + ((h.flags & crc32Packed) !== 0 ? 4 : 0)
      const data = await source.read(at, packed)
      if (data.length < packed) throw new Error(`block at ${at} truncated`)
      at += packed
      if (!budget.admits(sink.size + size)) break
      const plain = packed === size ? data : lzo1xDecompress(data, size)
      // A bad checksum does not stop the scan (the bytes are scanned as they decoded), but is said.
      if ((wantAdler !== undefined && adler32(plain) !== wantAdler) || (wantCrc !== undefined && crc32(plain) !== wantCrc)) {
        budget.report(broken, 'broken', `block at ${at - packed}: checksum of the plain bytes does not match`)
      }
      if (!sink.write(plain)) break
    }
  } catch (err) {
    budget.report(broken, 'broken', err instanceof Error ? err.message : String(err))
  }
  const layer = sink.layer(h.name === '' ? 'lzo-content' : h.name)
  if (layer !== undefined) yield layer
}

export const lzopHandler: FormatHandler = { type: 'lzop', extract }
