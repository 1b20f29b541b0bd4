/// UPX-packed executables (PE32, PE32+ and ELF), unpacked without running the stub. Layout, from UPX's
/// published file-format notes: a PE keeps a "PackHeader" (`UPX!`, version, format, method, sizes,
/// filter) in its headers or at the start of its packed section, and the compressed image of all the
/// original sections sits at the start of the first section that has file bytes (UPX1, after the
/// empty UPX0 it expands into); an ELF keeps `l_info` (`UPX!`) and `p_info` after its program headers,
/// then one `b_info` (uncompressed size, compressed size, method, filter) per compressed block.
/// Methods NRV2B/NRV2D/NRV2E (32- and 8-bit bit buffers, nrv.ts) and LZMA (method 14, lzma-raw.ts)
/// are decoded; the 16-bit NRV variants are reported as unsupported. The x86 "call trick" filters are undone so calls
/// and jumps read as in the original code. Every size and offset is checked against the file and
/// against `limit` (the caller's budget): a lying header gives a reason string, never an exception.
import { nrvDecompress, type NrvMethod } from './nrv.js'
import { unfilter } from './upx-filter.js'
import { lzmaDecodeRaw } from './lzma-raw.js'
import type { ExecutableInfo } from '../../executable/types.js'

/// What unpacking gave: the uncompressed image (the original sections back to back, as UPX laid them
/// out in memory) and the method, for the child's name.
export interface UpxImage { readonly bytes: Uint8Array, readonly method: string }

const methods: ReadonlyMap<number, readonly [NrvMethod, 8 | 32]> = new Map([
  [2, ['nrv2b', 32]], [3, ['nrv2b', 8]],
  [5, ['nrv2d', 32]], [6, ['nrv2d', 8]],
  [8, ['nrv2e', 32]], [9, ['nrv2e', 8]],
])

const lzmaMethod = 14

const magic = [0x55, 0x50, 0x58, 0x21] // "UPX!"

/// Whether the bytes look UPX-packed at all (a `UPX!` marker in the first 4 KiB): cheap, so the PE and
/// ELF handlers can skip the rest for ordinary programs.
export function looksUpx (head: Uint8Array): boolean { return findMagic(head, 0, Math.min(head.length, 4096)) !== -1 }

function findMagic (bytes: Uint8Array, from: number, to: number): number {
  for (let at = bytes.indexOf(0x55, from); at !== -1 && at + 4 <= to; at = bytes.indexOf(0x55, at + 1)) {
    if (bytes[at + 1] === magic[1] && bytes[at + 2] === magic[2] && bytes[at + 3] === magic[3]) return at
  }
  return -1
}

function decode (method: number, bytes: Uint8Array, start: number, size: number, limit: number): Uint8Array | string {
  if (size > limit) return `UPX uncompressed size ${size} over the limit`
  if (method === lzmaMethod) return decodeLzma(bytes, start, size)
  const known = methods.get(method)
  if (known === undefined) return `UPX method ${method} not supported`
  try {
    const { output } = nrvDecompress(known[0], bytes, start, size, known[1])
    return output
  } catch (error) {
    return (error as Error).message
  }
}

/// UPX's LZMA streams start with two bytes of their own instead of LZMA's five: (lc + lp) << 3 | pb,
/// then lp << 4 | lc (UPX's compress_lzma.cpp writes them so; its stub reads them). No dictionary
/// size: the whole output is the window.
function decodeLzma (bytes: Uint8Array, start: number, size: number): Uint8Array | string {
  if (start + 3 > bytes.length) return 'UPX LZMA stream past the end of the file'
  const pb = bytes[start]! & 7
  const lp = bytes[start + 1]! >>> 4
  const lc = bytes[start + 1]! & 15
  if ((bytes[start]! >>> 3) !== lc + lp) return 'UPX LZMA header inconsistent'
  try {
    const output = lzmaDecodeRaw(bytes, start + 2, bytes.length, { lc, lp, pb }, size)
    return output.length === size ? output : 'UPX LZMA stream ended before the stated size'
  } catch (error) {
    return (error as Error).message
  }
}

function methodName (method: number): string { return method === lzmaMethod ? 'lzma' : methods.get(method)?.[0] ?? `method-${method}` }

export function unpackUpxPe (bytes: Uint8Array, info: ExecutableInfo, limit: number): UpxImage | string {
  const firstRaw = info.sections.find(s => s.rawSize > 0)
  if (firstRaw === undefined) return 'no section with file bytes'
  // The PackHeader sits in the headers (before the first section's bytes) or, in some versions, at
  // the start of the packed section itself.
  let at = findMagic(bytes, 0, Math.min(bytes.length, firstRaw.rawOffset + 4096))
  if (at === -1 || at + 32 > bytes.length) return 'no UPX PackHeader'
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = bytes[at + 4]!
  if (version < 10) return `UPX PackHeader version ${version} not supported`
  const method = bytes[at + 6]!
  const uncompressed = view.getUint32(at + 16, true)
  const compressed = view.getUint32(at + 20, true)
  const filter = bytes[at + 28]!
  const cto = bytes[at + 29]!
  if (firstRaw.rawOffset + compressed > bytes.length) return 'UPX compressed size past the end of the file'
  at = firstRaw.rawOffset
  const output = decode(method, bytes, at, uncompressed, limit)
  if (typeof output === 'string') return output
  unfilter(output, filter, cto)
  return { bytes: output, method: methodName(method) }
}

export function unpackUpxElf (bytes: Uint8Array, limit: number): UpxImage | string {
  const wide = bytes[4] === 2
  if (bytes[5] === 2) return 'big-endian UPX ELF not supported'
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const phoff = wide ? Number(view.getBigUint64(0x20, true)) : view.getUint32(0x1c, true)
  const phentsize = view.getUint16(wide ? 0x36 : 0x2a, true)
  const phnum = view.getUint16(wide ? 0x38 : 0x2c, true)
  // l_info normally follows the program headers; search a little further for stubs that pad.
  const expected = phoff + phnum * phentsize + 4
  const from = Math.max(0, Math.min(expected, bytes.length))
  let lInfo = findMagic(bytes, from, Math.min(bytes.length, from + 4096))
  if (lInfo === -1) return 'no UPX l_info'
  lInfo -= 4 // l_checksum precedes the magic
  let at = lInfo + 12 + 12 // past l_info and p_info
  const parts: Uint8Array[] = []
  let total = 0
  let method = 0
  while (at + 12 <= bytes.length) {
    const uncompressed = view.getUint32(at, true)
    const compressed = view.getUint32(at + 4, true)
    if (uncompressed === 0 || uncompressed === 0x21585055 /* UPX! trailer */) break
    if (compressed === 0 || compressed > uncompressed || at + 12 + compressed > bytes.length) return `UPX b_info at ${at} out of bounds`
    if (total + uncompressed > limit) return 'UPX uncompressed size over the limit'
    let block: Uint8Array | string
    if (compressed === uncompressed) block = bytes.slice(at + 12, at + 12 + compressed)
    else {
      method = bytes[at + 8]!
      block = decode(method, bytes, at + 12, uncompressed, limit - total)
    }
    if (typeof block === 'string') return parts.length === 0 ? block : joined(parts, total, method)
    unfilter(block, bytes[at + 9]!, bytes[at + 10]!)
    parts.push(block)
    total += block.length
    at += 12 + compressed
    at += (4 - (at % 4)) % 4 // blocks are 4-byte aligned
  }
  if (parts.length === 0) return 'no UPX blocks'
  return joined(parts, total, method)
}

function joined (parts: readonly Uint8Array[], total: number, method: number): UpxImage {
  const bytes = new Uint8Array(total)
  let at = 0
  for (const part of parts) { bytes.set(part, at); at += part.length }
  return { bytes, method: methodName(method) }
}
