/// Portable Executable headers (Microsoft's PE/COFF specification): DOS stub → `PE\0\0` → COFF file
/// header → optional header (PE32 or PE32+) → section table. Only what offsets, TDB conditions and
/// unpackers use is read; a header that lies (sections past the end, absurd counts) gives a reason
/// string, never an exception, and the caller treats the object as a plain file.
import { addressToOffset, type ExecutableInfo, type ExecutableSection } from './types.js'

const maxSections = 96 // the Windows loader's own limit

/// `fileSize` lets a caller read the layout from the head of a larger file (the headers and section
/// table must be in `bytes`; section sizes and the overlay are then judged against the whole file).
export function readPe (bytes: Uint8Array, fileSize = bytes.length): ExecutableInfo | string {
  if (bytes.length < 64 || bytes[0] !== 0x4d || bytes[1] !== 0x5a) return 'no MZ header'
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const peOffset = view.getUint32(0x3c, true)
  if (peOffset + 24 > bytes.length) return 'PE header offset past the end'
  if (view.getUint32(peOffset, true) !== 0x00004550) return 'no PE signature'
  const sectionCount = view.getUint16(peOffset + 6, true)
  const optionalSize = view.getUint16(peOffset + 20, true)
  if (sectionCount === 0 || sectionCount > maxSections) return `section count ${sectionCount}`
  const optional = peOffset + 24
  if (optional + Math.max(optionalSize, 64) > bytes.length) return 'optional header past the end'
  const magic = view.getUint16(optional, true)
  if (magic !== 0x10b && magic !== 0x20b) return `optional header magic 0x${magic.toString(16)}`
  const entryAddress = view.getUint32(optional + 16, true)
  const imageBase = magic === 0x20b ? Number(view.getBigUint64(optional + 24, true)) : view.getUint32(optional + 28, true)
  const sectionAlignment = view.getUint32(optional + 32, true)
  const fileAlignment = view.getUint32(optional + 36, true)
  const table = optional + optionalSize
  if (table + sectionCount * 40 > bytes.length) return 'section table past the end'
  const sections: ExecutableSection[] = []
  let overlayOffset = table + sectionCount * 40
  for (let i = 0; i < sectionCount; i++) {
    const at = table + i * 40
    const section = {
      name: latin1(bytes.subarray(at, at + 8)),
      virtualSize: view.getUint32(at + 8, true),
      virtualAddress: view.getUint32(at + 12, true),
      rawSize: view.getUint32(at + 16, true),
      rawOffset: view.getUint32(at + 20, true)
    }
    // The loader rounds the raw pointer down to 512 whatever FileAlignment says; ClamAV does too.
    const rawOffset = fileAlignment >= 512 ? section.rawOffset - (section.rawOffset % 512) : section.rawOffset
    const rawSize = Math.min(section.rawSize, Math.max(0, fileSize - rawOffset))
    sections.push({ ...section, rawOffset, rawSize })
    if (rawSize > 0) overlayOffset = Math.max(overlayOffset, rawOffset + rawSize)
  }
  return {
    format: 'pe',
    entryPoint: addressToOffset(sections, entryAddress) ?? (entryAddress < sections[0]!.virtualAddress ? entryAddress : undefined),
    entryAddress,
    sections,
    imageBase,
    sectionAlignment,
    fileAlignment,
    overlayOffset: Math.min(overlayOffset, fileSize)
  }
}

function latin1 (bytes: Uint8Array): string {
  const end = bytes.indexOf(0)
  return Buffer.from(bytes.subarray(0, end === -1 ? bytes.length : end)).toString('latin1')
}
