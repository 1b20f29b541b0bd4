/// ALZip archives (.alz, ESTsoft): stored, deflate and bzip2 members. Own parser from the public
/// descriptions of the format (the unalz notes): no npm library reads ALZ. Decoding reuses the zip
/// handler's decoders (node:zlib raw inflate, unbzip2-stream).
///
/// Layout: "ALZ\x01" and 4 bytes; then records, each a 4-byte signature: "BLZ\x01" a file, "CLZ\x01"
/// the central directory (the end of the members). A file record: name length (u16), attribute
/// (u8), DOS time (u32), descriptor (u8: bit 0 encrypted, high nibble the width in bytes of the two
/// size fields, 0 for a directory), a reserved byte; when sizes are present: method (u8: 0 stored,
/// 1 bzip2, 2 deflate), a reserved byte, CRC-32 (u32), packed and plain size (each `width` bytes);
/// the name; 12 bytes of encryption check when encrypted; the packed data.
import { crc32 } from 'node:zlib'
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { SliceSource } from './slice.js'
import { inflateRawInto } from './inflate.js'
import { bunzip } from './bzip2.js'

const fileRecord = 0x015a4c42 // "BLZ\x01"
const broken = 'Heuristics.Broken.ALZ'

interface Member { readonly name: string, readonly method: number, readonly encrypted: boolean, readonly data: number, readonly packed: number, readonly crc: number }

/// The file record at `at`; undefined at the central directory ("CLZ"), the end of the data, or a
/// record of a multi-volume set; a string saying what is wrong for anything else.
async function member (source: ByteSource, at: number): Promise<Member | string | undefined> {
  const h = Buffer.from(await source.read(at, 13))
  if (h.length >= 3 && h.toString('latin1', 0, 3) === 'CLZ') return undefined
  if (h.length < 13 || h.readUInt32LE(0) !== fileRecord) return h.length === 0 ? undefined : `no record at offset ${at}`
  const nameLength = h.readUInt16LE(4)
  const descriptor = h[11] as number
  const width = descriptor >> 4
  if (width !== 0 && width !== 1 && width !== 2 && width !== 4 && width !== 8) return `bad size width ${width} at offset ${at}`
  const sizes = Buffer.from(await source.read(at + 13, width === 0 ? 0 : 6 + 2 * width))
  if (sizes.length < (width === 0 ? 0 : 6 + 2 * width)) return `record at offset ${at} truncated`
  const method = width === 0 ? 0 : sizes[0] as number
  const packed = width === 0 ? 0 : Number(readWidth(sizes, 6, width))
  const crc = width === 0 ? 0 : sizes.readUInt32LE(2)
  const nameAt = at + 13 + sizes.length
  const name = Buffer.from(await source.read(nameAt, nameLength)).toString('latin1').replace(/\\/g, '/')
  const encrypted = (descriptor & 1) !== 0
  const data = nameAt + nameLength + (encrypted ? 12 : 0)
  return { name: name === '' ? `member@${at}` : name, method, encrypted, data, packed, crc }
}

function readWidth (b: Buffer, at: number, width: number): bigint {
  let value = 0n
  for (let i = width - 1; i >= 0; i--) value = (value << 8n) | BigInt(b[at + i] as number)
  return value
}

async function decode (source: ByteSource, m: Member, budget: ScanBudget): Promise<{ layer: Layer | undefined, why: string | undefined }> {
  const packed = new SliceSource(source, m.data, m.packed)
  if (m.method === 0) {
    if (!budget.admits(packed.size) || !budget.consume(packed.size, 0)) return { layer: undefined, why: undefined }
    return { layer: { name: m.name, source: packed }, why: packed.size < m.packed ? 'member data truncated' : undefined }
  }
  if (m.method === 2) {
    const { sink, broken: why } = await inflateRawInto(packed, budget, { packed: Math.max(1, m.packed) })
    return { layer: sink.layer(m.name), why }
  }
  if (m.method === 1) {
    const { sink, broken: why } = await bunzip(packed.chunks(64 * 1024), budget, Math.max(1, m.packed))
    return { layer: sink.layer(m.name), why }
  }
  return { layer: undefined, why: `${m.name}: unknown method ${m.method}` }
}

async function crcOf (layer: Layer): Promise<number> {
  let crc = 0
  for await (const chunk of layer.source.chunks(1 << 20)) crc = crc32(chunk, crc)
  return crc
}

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  for (let at = 8; at < source.size;) {
    if (!budget.alive()) return
    const m = await member(source, at)
    if (typeof m === 'string') { budget.report(broken, 'broken', m); return }
    if (m === undefined) return
    at = m.data + m.packed
    if (m.packed === 0 || m.name.endsWith('/')) continue
    if (m.encrypted) { budget.report('Heuristics.Encrypted.ALZ', 'encrypted'); continue }
    const { layer, why } = await decode(source, m, budget)
    if (why !== undefined) budget.report(broken, 'broken', why)
    // A bad CRC does not stop the scan (the bytes are scanned as they are), but is said.
    else if (layer !== undefined && await crcOf(layer) !== m.crc) budget.report(broken, 'broken', `${m.name}: CRC-32 does not match`)
    if (layer !== undefined) yield layer
    else if (!budget.alive()) return
  }
}

export const alzHandler: FormatHandler = { type: 'alz', extract }
