/// cpio in all four encodings: newc/crc ("070701"/"070702", hex), odc ("070707", octal) and old
/// binary in either byte order (magic 070707 as a 16-bit word). Own parser: fixed headers, no library
/// covers all four; members are zero-copy slices of the parent.
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { SliceSource } from './slice.js'

interface Header { name: string, size: number, mode: number, next: number, data: number }

const align = (n: number, a: number): number => Math.ceil(n / a) * a

async function header (source: ByteSource, at: number): Promise<Header | undefined> {
  const h = Buffer.from(await source.read(at, 110))
  const magic = h.toString('latin1', 0, 6)
  if (magic === '070701' || magic === '070702') {
    const hex = (i: number): number => parseInt(h.toString('latin1', 6 + i * 8, 14 + i * 8), 16)
    const nameLen = hex(11)
    const size = hex(6)
    const name = Buffer.from(await source.read(at + 110, nameLen)).toString('utf8').replace(/\0.*$/s, '')
    const data = align(at + 110 + nameLen, 4)
    return { name, size, mode: hex(1), data, next: align(data + size, 4) }
  }
  if (magic === '070707') {
    const oct = (from: number, len: number): number => parseInt(h.toString('latin1', from, from + len), 8)
    const nameLen = oct(59, 6)
    const size = oct(65, 11)
    const name = Buffer.from(await source.read(at + 76, nameLen)).toString('utf8').replace(/\0.*$/s, '')
    const data = at + 76 + nameLen
    return { name, size, mode: oct(18, 6), data, next: data + size }
  }
  if (h.length < 26) return undefined
  const le = h.readUInt16LE(0) === 0o70707
  const be = h.readUInt16BE(0) === 0o70707
  if (!le && !be) return undefined
  const u16 = (i: number): number => le ? h.readUInt16LE(i) : h.readUInt16BE(i)
  // Binary: 4-byte fields are two 16-bit words, most significant first, in the archive's order.
  const u32 = (i: number): number => u16(i) * 65536 + u16(i + 2)
  const nameLen = u16(20)
  const size = u32(22)
  const name = Buffer.from(await source.read(at + 26, nameLen)).toString('utf8').replace(/\0.*$/s, '')
  const data = align(at + 26 + nameLen, 2)
  return { name, size, mode: u16(6), data, next: align(data + size, 2) }
}

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  for (let at = 0; at < source.size;) {
    if (!budget.alive()) return
    const h = await header(source, at)
    if (h === undefined || !Number.isFinite(h.size) || h.next <= at) { budget.report('Heuristics.Broken.Cpio', 'broken', `no member header at offset ${at}`); return }
    if (h.name === 'TRAILER!!!') return
    const regular = (h.mode & 0o170000) === 0o100000
    if (regular && h.size > 0) {
      if (budget.admits(h.size) && budget.consume(Math.min(h.size, source.size - h.data), 0)) {
        if (h.data + h.size > source.size) budget.report('Heuristics.Broken.Cpio', 'broken', `${h.name} truncated: ${h.size} bytes declared, ${source.size - h.data} present`)
        yield { name: h.name, source: new SliceSource(source, h.data, h.size) }
      } else if (!budget.alive()) return
    }
    at = h.next
  }
}

export const cpioHandler: FormatHandler = { type: 'cpio', extract }
