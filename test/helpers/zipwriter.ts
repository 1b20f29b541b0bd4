/// A minimal ZIP writer for hostile inputs no tool makes on purpose: entries whose declared sizes
/// lie, central directory records that share one local header (the overlapping-entry bomb), and
/// deflate streams prepared elsewhere. APPNOTE 6.3 §4.3.7 (local header) and §4.3.12 (central).

export interface RawEntry {
  readonly name: string
  readonly method: 0 | 8
  readonly data: Buffer // already compressed with `method`
  readonly size: number // declared uncompressed size
  readonly crc?: number
}

function local (e: RawEntry): Buffer {
  const name = Buffer.from(e.name)
  const h = Buffer.alloc(30)
  h.writeUInt32LE(0x04034b50, 0)
  h.writeUInt16LE(20, 4)
  h.writeUInt16LE(e.method, 8)
  h.writeUInt32LE(e.crc ?? 0, 14)
  h.writeUInt32LE(e.data.length, 18)
  h.writeUInt32LE(Math.min(e.size, 0xfffffffe), 22)
  h.writeUInt16LE(name.length, 26)
  return Buffer.concat([h, name])
}

function central (e: RawEntry, offset: number): Buffer {
  const name = Buffer.from(e.name)
  const h = Buffer.alloc(46)
  h.writeUInt32LE(0x02014b50, 0)
  h.writeUInt16LE(20, 4)
  h.writeUInt16LE(20, 6)
  h.writeUInt16LE(e.method, 10)
  h.writeUInt32LE(e.crc ?? 0, 16)
  h.writeUInt32LE(e.data.length, 20)
  h.writeUInt32LE(Math.min(e.size, 0xfffffffe), 24)
  h.writeUInt16LE(name.length, 28)
  h.writeUInt32LE(offset, 42)
  return Buffer.concat([h, name])
}

function end (count: number, cdSize: number, cdOffset: number): Buffer {
  const h = Buffer.alloc(22)
  h.writeUInt32LE(0x06054b50, 0)
  h.writeUInt16LE(count, 8)
  h.writeUInt16LE(count, 10)
  h.writeUInt32LE(cdSize, 12)
  h.writeUInt32LE(cdOffset, 16)
  return h
}

/// An ordinary archive of the given entries.
export function zipOf (entries: readonly RawEntry[]): Buffer {
  const parts: Buffer[] = []
  const offsets: number[] = []
  let at = 0
  for (const e of entries) {
    offsets.push(at)
    const block = Buffer.concat([local(e), e.data])
    parts.push(block)
    at += block.length
  }
  const cd = Buffer.concat(entries.map((e, i) => central(e, offsets[i] ?? 0)))
  return Buffer.concat([...parts, cd, end(entries.length, cd.length, at)])
}

/// The overlapping-entry bomb: one compressed kernel, `count` central records all pointing at it.
export function overlappingZip (kernel: RawEntry, count: number): Buffer {
  const head = Buffer.concat([local(kernel), kernel.data])
  const cd = Buffer.concat(Array.from({ length: count }, (_, i) => central({ ...kernel, name: `f${i}` }, 0)))
  return Buffer.concat([head, cd, end(count, cd.length, head.length)])
}
