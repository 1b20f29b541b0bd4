/// PE packers unpacked by running their stub in a small bounded x86 emulator (x86/emulator.ts):
/// ASPack, MEW, Petite, Upack, WWPack and PESpin (clamav-testfiles' set; FSG too, though its test file
/// carries clam.exe unpacked and needs only embedded-pe.ts). Why an emulator and
/// not one decoder per packer: their formats are described publicly only as the code of their stubs
/// (aPLib- and LZMA-like coders with per-version twists, MEW's and Upack's header-overlapping
/// layouts, PESpin's encryption layers and exception tricks), ClamAV's per-packer unpackers are GPL
/// (not copied), and a stub run to the point where it hands over to the program unpacks every
/// version of each the same way. The stub runs until it calls an API other than the few loader
/// functions it needs (the unpacked program has started), faults without a handler, or uses up
/// maxSteps; the mapped image is then the program unpacked in memory. It is yielded as the sections
/// back to back (from the first section's address, so it is not read as a PE again) with the
/// programs it carries carved out (embedded-pe.ts).
/// Which files run: a PE whose entry point lies in a writable section (a stub must write the code it
/// unpacks; compilers put the entry point in a read-only .text) or in the headers (MEW, Upack).
import type { ExecutableInfo } from '../../executable/types.js'
import { carveEmbeddedPes } from './embedded-pe.js'
import type { Unpacked } from './unpacker.js'
import { emulatePe } from './x86/emulator.js'

/// clamav-testfiles' packers finish within 0.25 M instructions; the emulator runs 3-5 M a second here
/// once warm, so this bounds what a hostile or looping stub can take to about two seconds of CPU.
const maxSteps = 8_000_000
const maxMemory = 96 * 1024 * 1024
const writable = 0x80000000

/// Whether the entry point lies where only a self-modifying stub would put it.
export function looksSelfUnpacking (head: Uint8Array, info: ExecutableInfo): boolean {
  if (info.format !== 'pe' || info.imageBase > 0x7fff0000) return false
  const pe = new DataView(head.buffer, head.byteOffset, head.byteLength)
  const peAt = pe.getUint32(0x3c, true)
  const table = peAt + 24 + pe.getUint16(peAt + 20, true)
  const ep = info.entryAddress
  if (info.sections.length > 0 && ep < info.sections[0]!.virtualAddress) return true
  for (let i = 0; i < info.sections.length; i++) {
    const s = info.sections[i]!
    if (ep < s.virtualAddress || ep >= s.virtualAddress + Math.max(s.virtualSize, s.rawSize)) continue
    const at = table + i * 40 + 36
    return at + 4 <= head.length && (pe.getUint32(at, true) & writable) !== 0
  }
  return false
}

export function unpackEmulated (bytes: Uint8Array, info: ExecutableInfo, limit: number): Unpacked[] | string {
  let run: ReturnType<typeof emulatePe>
  try {
    run = emulatePe(bytes, info, { maxSteps, maxMemory: Math.min(maxMemory, Math.max(limit, 1 << 20) * 2) })
  } catch (error) {
    return (error as Error).message // a memory cap or a mapping the emulator refuses
  }
  if (typeof run === 'string') return run
  const first = info.sections.reduce((low, s) => Math.min(low, s.virtualAddress), run.image.length)
  const sections = run.image.subarray(first)
  if (sections.length > limit) return 'emulated image over the limit'
  const found: Unpacked[] = [{ name: 'emulated-image', bytes: sections }, ...carveEmbeddedPes(run.image, 'emulated-image')]
  run.allocated.forEach((region, i) => found.push(...carveEmbeddedPes(region, `emulated-alloc-${i}`)))
  return found
}
