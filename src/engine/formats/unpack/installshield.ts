/// InstallShield setup executables: the files a setup.exe carries in its overlay (after the last
/// section). Two layouts, from public descriptions of the format (ISx and the extractors that follow
/// it):
///  - plain: records of `name\0 path\0 version\0 size-in-decimal\0` and then `size` bytes, back to
///    back, unencrypted (the "IScab_ext" kind: the payload is stored as it is);
///  - encrypted: a header `InstallShield\0` (or `ISSetupStream\0` in newer builds) with the file count,
///    then per file a fixed header (name, flags, size, a compression flag) and the data, each byte
///    nibble-swapped, xored with a key derived from the file name (name ^ 13 35 86 07, restarted every
///    1024 bytes when flag 4 is set) and inverted, then zlib-inflated when the compression flag is set.
/// The MSI or Microsoft cabinet that comes out is itself scanned by its own handler; InstallShield's own
/// cabinets (`dataN.hdr` + `dataN.cab`) are opened here, together (installshield-cab.ts). Sizes are checked against
/// the overlay and `limit`; inflation is bounded by `limit` too.
import { inflateSync } from 'node:zlib'
import type { Unpacked } from './unpacker.js'
import { unpackInstallShieldCabinets } from './installshield-cab.js'

const maxFiles = 4096
const streamKey = [0x13, 0x35, 0x86, 0x07]

/// The files of an InstallShield overlay starting at `overlay`, or a reason when it is not one.
export function unpackInstallShield (bytes: Uint8Array, overlay: number, limit: number): Unpacked[] | string {
  const tail = Buffer.from(bytes.buffer, bytes.byteOffset + overlay, bytes.length - overlay)
  const records = plain(tail, limit)
  if (typeof records !== 'string') return [...records, ...unpackInstallShieldCabinets(records, limit - records.reduce((n, r) => n + r.bytes.length, 0))]
  // The encrypted header follows at most a debug-info block (`NB10` and a .pdb path) at the start of
  // the overlay; the same words further on are text inside the payload.
  const head = tail.subarray(0, 4096)
  for (const [magic, version] of [['InstallShield\0', 1], ['ISSetupStream\0', 2]] as const) {
    const at = head.indexOf(magic)
    if (at !== -1) return encrypted(tail, at, version, limit)
  }
  return records
}

/// One plain record's header at `at`: four NUL-terminated fields, the last a decimal size.
function recordHeader (tail: Buffer, at: number): { name: string, size: number, dataAt: number } | undefined {
  const fields: string[] = []
  let cursor = at
  for (let i = 0; i < 4; i++) {
    const end = tail.indexOf(0, cursor)
    if (end === -1 || end - cursor > 1024) return undefined
    fields.push(tail.toString('latin1', cursor, end))
    cursor = end + 1
  }
  const [name, , version, sizeText] = fields as [string, string, string, string]
  if (!/^[\d.]+$/.test(version) || !/^\d{1,10}$/.test(sizeText) || !/^[\x20-\x7e]+$/.test(name)) return undefined
  return { name, size: Number(sizeText), dataAt: cursor }
}

/// Whether the first bytes of an overlay look like either layout (cheap: the caller reads the whole
/// file only then).
export function looksInstallShield (overlayHead: Uint8Array): boolean {
  const head = Buffer.from(overlayHead.buffer, overlayHead.byteOffset, overlayHead.byteLength)
  return recordHeader(head, 0) !== undefined || head.indexOf('InstallShield\0') !== -1 || head.indexOf('ISSetupStream\0') !== -1
}

function plain (tail: Buffer, limit: number): Unpacked[] | string {
  const found: Unpacked[] = []
  let at = 0
  let produced = 0
  while (found.length < maxFiles && at < tail.length) {
    const record = recordHeader(tail, at)
    if (record === undefined || record.size > tail.length - record.dataAt || produced + record.size > limit) break
    found.push({ name: record.name, bytes: tail.subarray(record.dataAt, record.dataAt + record.size) })
    produced += record.size
    at = record.dataAt + record.size
  }
  return found.length === 0 ? 'no InstallShield records' : found
}

function encrypted (tail: Buffer, start: number, version: 1 | 2, limit: number): Unpacked[] | string {
  if (start + 46 > tail.length) return 'InstallShield header past the end'
  const count = tail.readUInt16LE(start + 14)
  let at = start + 46
  let produced = 0
  const found: Unpacked[] = []
  for (let n = 0; n < Math.min(count, maxFiles); n++) {
    let name: string
    let flags: number
    let size: number
    let compressed: boolean
    if (version === 1) {
      if (at + 312 > tail.length) break
      const raw = tail.subarray(at, at + 260)
      const end = raw.indexOf(0)
      name = raw.toString('latin1', 0, end === -1 ? 260 : end)
      flags = tail.readUInt32LE(at + 260)
      size = tail.readUInt32LE(at + 268)
      compressed = tail.readUInt16LE(at + 280) !== 0
      at += 312
    } else {
      if (at + 24 > tail.length) break
      const nameLength = tail.readUInt32LE(at)
      flags = tail.readUInt32LE(at + 4)
      size = tail.readUInt32LE(at + 10)
      compressed = tail.readUInt16LE(at + 22) !== 0
      if (nameLength > 4096 || at + 24 + nameLength > tail.length) break
      name = tail.toString('utf16le', at + 24, at + 24 + nameLength)
      at += 24 + nameLength
    }
    if (size > tail.length - at) break
    const data = decrypt(tail.subarray(at, at + size), Buffer.from(name, 'utf8'), (flags & 4) !== 0)
    at += size
    let content: Uint8Array = data
    if (compressed) {
      try {
        content = inflateSync(data, { maxOutputLength: Math.max(1, limit - produced) })
      } catch {
        continue // a damaged or over-limit member: the others may still be whole
      }
    }
    produced += content.length
    if (produced > limit) break
    found.push({ name: name.split(/[\\/]/).pop() || `file-${n}`, bytes: content })
  }
  return found.length === 0 ? 'no InstallShield files' : found
}

function decrypt (data: Uint8Array, seed: Uint8Array, restartEvery1024: boolean): Uint8Array {
  if (seed.length === 0) return Uint8Array.from(data)
  const key = seed.map((b, i) => b ^ streamKey[i % 4]!)
  const out = new Uint8Array(data.length)
  for (let i = 0; i < data.length; i++) {
    const position = restartEvery1024 ? (i % 1024) % key.length : i % key.length
    const b = data[i]!
    out[i] = ~(key[position]! ^ (((b << 4) | (b >>> 4)) & 0xff)) & 0xff
  }
  return out
}
