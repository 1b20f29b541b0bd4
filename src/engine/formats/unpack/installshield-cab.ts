/// InstallShield cabinets (`ISc(`, versions 5 to 2x), as unshield documents them: a header (in
/// `dataN.hdr`, or at the start of `data1.cab` when that holds a cabinet descriptor) lists the files
/// with their size, flags, data offset and volume; the data sit in `data1.cab`, `data2.cab`, … and a
/// compressed file is a run of chunks, each a 16-bit length and a raw-deflate block. They arrive as
/// sibling files of an InstallShield setup overlay (installshield.ts), so they are read together here
/// rather than as separate layers that could not see each other. Offsets and sizes are checked against
/// the header and volume they point into, and inflation is bounded by `limit`.
import { constants, inflateRawSync } from 'node:zlib'
import type { Unpacked } from './unpacker.js'

const flagInvalid = 8
const flagCompressed = 4
const maxFiles = 65_536

function isCabinet (bytes: Uint8Array): boolean {
  return bytes.length >= 20 && bytes[0] === 0x49 && bytes[1] === 0x53 && bytes[2] === 0x63 && bytes[3] === 0x28
}

/// The files inside the InstallShield cabinets among `siblings`, or [] when there are none.
export function unpackInstallShieldCabinets (siblings: readonly Unpacked[], limit: number): Unpacked[] {
  const volumes = new Map<string, Uint8Array>()
  for (const s of siblings) if (isCabinet(s.bytes)) volumes.set(s.name.toLowerCase(), s.bytes)
  const found: Unpacked[] = []
  for (const [name, bytes] of volumes) {
    const header = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    if (header.readUInt32LE(16) === 0) continue // no descriptor here: a data volume
    const prefix = name.replace(/\d*\.(hdr|cab)$/, '')
    const volume = (n: number): Buffer | undefined => {
      const v = volumes.get(`${prefix}${n}.cab`)
      return v === undefined ? undefined : Buffer.from(v.buffer, v.byteOffset, v.byteLength)
    }
    try {
      found.push(...readCabinet(header, volume, limit - found.reduce((n, f) => n + f.bytes.length, 0)))
    } catch {
      // A lying descriptor ends this cabinet; what came out before stays.
    }
  }
  return found
}

function majorVersion (version: number): number {
  if (version >>> 24 === 1) return (version >>> 12) & 0xf
  const low = version & 0xffff
  return low === 0 ? 0 : Math.floor(low / 100)
}

interface Descriptor { name: string, flags: number, expanded: number, compressed: number, offset: number, volume: number }

function readCabinet (header: Buffer, volume: (n: number) => Buffer | undefined, limit: number): Unpacked[] {
  const major = majorVersion(header.readUInt32LE(4))
  const descriptor = header.readUInt32LE(12)
  const tableOffset = header.readUInt32LE(descriptor + 0x0c)
  const directories = header.readUInt32LE(descriptor + 0x1c)
  const files = Math.min(header.readUInt32LE(descriptor + 0x28), maxFiles)
  const descriptorsAt = header.readUInt32LE(descriptor + 0x2c)
  const base = descriptor + tableOffset
  const text = (at: number): string => {
    const end = header.indexOf(0, base + at)
    return header.toString('latin1', base + at, end === -1 ? Math.min(header.length, base + at + 260) : Math.min(end, base + at + 260))
  }
  const found: Unpacked[] = []
  let produced = 0
  for (let index = 0; index < files; index++) {
    let d: Descriptor
    if (major <= 5) {
      const at = base + header.readUInt32LE(base + 4 * (directories + index))
      d = { name: text(header.readUInt32LE(at)), flags: header.readUInt16LE(at + 8), expanded: header.readUInt32LE(at + 10), compressed: header.readUInt32LE(at + 14), offset: header.readUInt32LE(at + 38), volume: 0 }
    } else {
      const at = base + descriptorsAt + index * 0x57
      d = { flags: header.readUInt16LE(at), expanded: Number(header.readBigUInt64LE(at + 2)), compressed: Number(header.readBigUInt64LE(at + 10)), offset: Number(header.readBigUInt64LE(at + 18)), name: text(header.readUInt32LE(at + 0x3a)), volume: header.readUInt16LE(at + 0x55) }
    }
    if ((d.flags & flagInvalid) !== 0 || d.offset === 0 || d.expanded === 0) continue
    if (produced + d.expanded > limit) break
    // Version 5 headers do not say the volume: the one whose data decode to the stated size is it.
    const candidates = d.volume > 0 ? [d.volume] : [1, 2, 3, 4, 5, 6, 7, 8]
    for (const n of candidates) {
      const data = volume(n)
      if (data === undefined) continue
      const content = readFile(data, d)
      if (content === undefined) continue
      found.push({ name: d.name.split(/[\\/]/).pop() || `file-${index}`, bytes: content })
      produced += content.length
      break
    }
  }
  return found
}

function readFile (data: Buffer, d: Descriptor): Uint8Array | undefined {
  const stored = (d.flags & flagCompressed) === 0
  const length = stored ? d.expanded : d.compressed
  if (d.offset + length > data.length) return undefined
  if (stored) return data.subarray(d.offset, d.offset + length)
  const parts: Buffer[] = []
  let size = 0
  let at = d.offset
  const end = d.offset + length
  while (at + 2 <= end) {
    const chunk = data.readUInt16LE(at)
    at += 2
    if (chunk === 0 || at + chunk > end) return undefined
    let part: Buffer
    try {
      part = inflateRawSync(data.subarray(at, at + chunk), { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: d.expanded - size + 1 })
    } catch {
      return undefined
    }
    size += part.length
    if (size > d.expanded) return undefined
    parts.push(part)
    at += chunk
  }
  return size === d.expanded ? Buffer.concat(parts, size) : undefined
}
