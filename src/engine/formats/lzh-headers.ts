/// LHA/LZH member headers, levels 0, 1 and 2 (the published LHA header description): where each
/// member's data lies, its method and name. Level 3 and anything unreadable end the walk; the 7-Zip
/// backend still reads such archives for the methods it knows.
import type { ByteSource } from '../source.js'

export interface LzhMember {
  readonly name: string
  /// The five-character method id between dashes: lh0 … lh7, lzs, lz4, lz5, lhd (a directory).
  readonly method: string
  readonly data: number
  readonly packed: number
  readonly size: number
}

/// Extended headers of levels 1 and 2: type (u8), content, size of the next one (u16; 0 ends).
async function extendedName (source: ByteSource, at: number, first: number, limit: number): Promise<{ name: string, dir: string, length: number }> {
  let name = ''
  let dir = ''
  let length = 0
  for (let size = first; size > 0 && length < limit;) {
    const ext = Buffer.from(await source.read(at + length, size))
    if (ext.length < size || size < 3) break
    const content = ext.subarray(1, size - 2)
    if (ext[0] === 0x01) name = content.toString('latin1')
    else if (ext[0] === 0x02) dir = content.toString('latin1').split('\xff').filter(p => p !== '').join('/')
    length += size
    size = ext.readUInt16LE(size - 2)
  }
  return { name, dir, length }
}

const join = (dir: string, name: string): string => (dir === '' ? name : `${dir}/${name}`).replace(/\\/g, '/')

/// The member at `at`, or undefined at the end mark, past the end, or on a header it cannot read.
export async function lzhMember (source: ByteSource, at: number): Promise<LzhMember | undefined> {
  const h = Buffer.from(await source.read(at, 26))
  if (h.length < 22 || h[0] === 0 || h[2] !== 0x2d || h[6] !== 0x2d) return undefined
  const method = h.toString('latin1', 3, 6)
  const packed = h.readUInt32LE(7)
  const size = h.readUInt32LE(11)
  const level = h[20]
  if (level === 0 || level === 1) {
    const headerSize = (h[0] as number) + 2
    const nameLength = h[21] as number
    const name = Buffer.from(await source.read(at + 22, nameLength)).toString('latin1')
    if (level === 0) return { name: join('', name), method, data: at + headerSize, packed, size }
    // Level 1: the extended headers follow the base header and count in the "packed" (skip) size.
    const next = Buffer.from(await source.read(at + headerSize - 2, 2))
    if (next.length < 2) return undefined
    const ext = await extendedName(source, at + headerSize, next.readUInt16LE(0), packed)
    return { name: join(ext.dir, ext.name === '' ? name : ext.name), method, data: at + headerSize + ext.length, packed: packed - ext.length, size }
  }
  if (level === 2) {
    const total = h.readUInt16LE(0)
    const ext = await extendedName(source, at + 26, h.readUInt16LE(24), Math.max(0, total - 26))
    return { name: join(ext.dir, ext.name), method, data: at + total, packed, size }
  }
  return undefined
}

/// Every member in order, stopping at the end mark or at the first header it cannot read.
export async function * lzhMembers (source: ByteSource, alive: () => boolean): AsyncIterable<LzhMember> {
  for (let at = 0; at < source.size && alive();) {
    const m = await lzhMember(source, at)
    if (m === undefined || m.data <= at) return
    yield m
    at = m.data + m.packed
  }
}
