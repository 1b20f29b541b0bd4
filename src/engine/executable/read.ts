/// One entry point for "what is this executable's layout", chosen by magic, so offsets, TDB
/// conditions and unpackers never parse headers twice or differently.
import { readElf } from './elf.js'
import { readMachO } from './macho.js'
import { readPe } from './pe.js'
import type { ExecutableInfo } from './types.js'

/// `fileSize`: see readPe (only PE layouts can be read from a head; ELF and Mach-O need the file).
export function readExecutable (bytes: Uint8Array, fileSize = bytes.length): ExecutableInfo | undefined {
  const b0 = bytes[0]
  const info = b0 === 0x4d ? readPe(bytes, fileSize) : b0 === 0x7f ? readElf(bytes) : isMachO(bytes) ? readMachO(bytes) : 'not an executable'
  return typeof info === 'string' ? undefined : info
}

function isMachO (bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false
  const magic = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0
  return magic === 0xfeedface || magic === 0xfeedfacf || magic === 0xcefaedfe || magic === 0xcffaedfe
}
