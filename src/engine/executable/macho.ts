/// Mach-O headers (Apple's loader format): 32/64-bit thin binaries in either byte order. Sections come
/// from the LC_SEGMENT/LC_SEGMENT_64 commands; the entry point from LC_MAIN (a file offset already) or
/// LC_UNIXTHREAD (the initial program counter, mapped through the segments). Fat (universal) files are
/// containers of thin ones and are not read here.
import { addressToOffset, unalignedLayout, type ExecutableInfo, type ExecutableSection } from './types.js'

const maxCommands = 4096

export function readMachO (bytes: Uint8Array): ExecutableInfo | string {
  if (bytes.length < 28) return 'shorter than a Mach-O header'
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const magic = view.getUint32(0, false)
  const little = magic === 0xcefaedfe || magic === 0xcffaedfe
  const wide = magic === 0xfeedfacf || magic === 0xcffaedfe
  if (!little && magic !== 0xfeedface && magic !== 0xfeedfacf) return 'no Mach-O magic'
  const u32 = (at: number): number => view.getUint32(at, little)
  const word = (at: number): number => wide ? Number(view.getBigUint64(at, little)) : u32(at)
  const cpuType = u32(4)
  const commandCount = u32(16)
  if (commandCount > maxCommands) return `load command count ${commandCount}`
  const sections: ExecutableSection[] = []
  const segments: ExecutableSection[] = []
  let entryPoint: number | undefined
  let entryAddress = 0
  let threadPc: number | undefined
  let overlayOffset = 0
  let at = wide ? 32 : 28
  for (let i = 0; i < commandCount; i++) {
    if (at + 8 > bytes.length) return 'load command past the end'
    const command = u32(at)
    const size = u32(at + 4)
    if (size < 8 || at + size > bytes.length) return 'load command size out of bounds'
    if (command === 0x1 || command === 0x19) { // LC_SEGMENT, LC_SEGMENT_64
      const segment = {
        name: '',
        virtualAddress: word(at + 24),
        virtualSize: word(wide ? at + 32 : at + 28),
        rawOffset: word(wide ? at + 40 : at + 32),
        rawSize: word(wide ? at + 48 : at + 36)
      }
      segments.push(segment)
      overlayOffset = Math.max(overlayOffset, segment.rawOffset + segment.rawSize)
      const count = u32(wide ? at + 64 : at + 48)
      const sectionSize = wide ? 80 : 68
      let s = at + (wide ? 72 : 56)
      for (let k = 0; k < count && s + sectionSize <= at + size; k++, s += sectionSize) {
        const address = word(s + 32)
        const length = word(s + 32 + (wide ? 8 : 4))
        const offset = u32(s + 32 + (wide ? 16 : 8))
        sections.push({ name: '', virtualAddress: address, virtualSize: length, rawOffset: offset, rawSize: offset === 0 ? 0 : length })
      }
    } else if (command === 0x80000028 && size >= 24) { // LC_MAIN: entryoff is a file offset
      entryPoint = Number(view.getBigUint64(at + 8, little))
      entryAddress = entryPoint
    } else if (command === 0x5 && threadPc === undefined) { // LC_UNIXTHREAD
      threadPc = threadProgramCounter(view, at, size, cpuType, little)
    }
    at += size
  }
  if (entryPoint === undefined && threadPc !== undefined) {
    entryAddress = threadPc
    entryPoint = addressToOffset(segments, threadPc)
  }
  return unalignedLayout('macho', bytes.length, entryPoint, entryAddress, sections, Math.max(overlayOffset, at))
}

/// The initial program counter in an LC_UNIXTHREAD state, for the CPUs whose layout is public and
/// common: i386 (eip, 11th register), x86-64 (rip, 17th), ARM (pc, 16th), ARM64 (pc after x0-x28,
/// fp, lr, sp).
function threadProgramCounter (view: DataView, at: number, size: number, cpuType: number, little: boolean): number | undefined {
  const state = at + 16
  const read32 = (index: number): number | undefined => state + index * 4 + 4 <= at + size ? view.getUint32(state + index * 4, little) : undefined
  const read64 = (index: number): number | undefined => state + index * 8 + 8 <= at + size ? Number(view.getBigUint64(state + index * 8, little)) : undefined
  switch (cpuType) {
    case 7: return read32(10)
    case 0x01000007: return read64(16)
    case 12: return read32(15)
    case 0x0100000c: return read64(32)
    default: return undefined
  }
}
