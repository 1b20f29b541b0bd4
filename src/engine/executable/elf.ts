/// ELF headers (System V ABI): 32/64-bit, either byte order. Sections come from the section header
/// table (what ClamAV's `Sx` offsets count); the entry point is mapped to a file offset through the
/// loadable program headers, as the loader maps it. A lying header gives a reason string.
import { unalignedLayout, type ExecutableInfo, type ExecutableSection } from './types.js'

const maxTableEntries = 4096

export function readElf (bytes: Uint8Array): ExecutableInfo | string {
  if (bytes.length < 52 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) return 'no ELF magic'
  const wide = bytes[4] === 2
  const little = bytes[5] !== 2
  if (wide && bytes.length < 64) return 'ELF64 header past the end'
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const u16 = (at: number): number => view.getUint16(at, little)
  const u32 = (at: number): number => view.getUint32(at, little)
  const word = (at: number): number => wide ? Number(view.getBigUint64(at, little)) : u32(at)
  const fits = (at: number, size: number): boolean => at >= 0 && at + size <= bytes.length
  const entryAddress = word(0x18)
  const phoff = word(wide ? 0x20 : 0x1c)
  const shoff = word(wide ? 0x28 : 0x20)
  const phentsize = u16(wide ? 0x36 : 0x2a)
  const phnum = u16(wide ? 0x38 : 0x2c)
  const shentsize = u16(wide ? 0x3a : 0x2e)
  const shnum = u16(wide ? 0x3c : 0x30)
  if (phnum > maxTableEntries || shnum > maxTableEntries) return 'header table count too large'

  let entryPoint: number | undefined
  let overlayOffset = 0
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize
    if (!fits(at, wide ? 56 : 32)) return 'program header past the end'
    if (u32(at) !== 1) continue // PT_LOAD only
    const offset = word(wide ? at + 8 : at + 4)
    const vaddr = word(wide ? at + 16 : at + 8)
    const filesz = word(wide ? at + 32 : at + 16)
    overlayOffset = Math.max(overlayOffset, offset + filesz)
    if (entryPoint === undefined && entryAddress >= vaddr && entryAddress < vaddr + filesz) entryPoint = offset + (entryAddress - vaddr)
  }

  const sections: ExecutableSection[] = []
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize
    if (!fits(at, wide ? 64 : 40)) return 'section header past the end'
    const type = u32(at + 4)
    const address = word(wide ? at + 16 : at + 12)
    const offset = word(wide ? at + 24 : at + 16)
    const size = word(wide ? at + 32 : at + 20)
    const inFile = type !== 8 /* SHT_NOBITS */ && type !== 0
    sections.push({
      name: '',
      virtualAddress: address,
      virtualSize: size,
      rawOffset: offset,
      rawSize: inFile ? Math.min(size, Math.max(0, bytes.length - offset)) : 0
    })
    if (inFile) overlayOffset = Math.max(overlayOffset, offset + size)
  }
  overlayOffset = Math.max(overlayOffset, shoff + shnum * shentsize)
  return unalignedLayout('elf', bytes.length, entryPoint, entryAddress, sections, overlayOffset)
}
