/// yC (Ashkbiz Danehkar's PE encryptor, 1.x): its stub, in the last section, first decrypts the rest
/// of itself and then every section of the program, each with a short "polymorphic" byte loop
/// (`lodsb`, a few of ADD/SUB/XOR/ROL/ROR/INC/DEC on AL with constants or CL, `stosb`, `loop`); the
/// program's sections are otherwise left in place. As published analyses of yC describe (and as
/// ClamAV does), the loops are interpreted here, not run: stage one at stub+0x93 over stub+0xC6 (its
/// length from the stub's `mov ecx`/`sub ecx`), stage two at stub+0x457 over each section but those
/// the loader needs before the stub runs (resources, relocations, exports, imports, TLS) and the stub
/// itself. What comes out is the file with its sections decrypted, scanned again as a PE (so a UPX
/// layer under yC, as in clamav-testfiles' clam-yc.exe, is unpacked next). Every read is checked
/// against the stub's section; an opcode outside that set ends the unpacker with a reason.
import type { ExecutableInfo } from '../../executable/types.js'

const prologue = [0x55, 0x8b, 0xec, 0x53, 0x56, 0x57, 0x60, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x5d, 0x81, 0xed]
const skipped = new Set(['rsrc', '.rsr', 'relo', '.rel', '.eda', '.rda', '.ida', '.tls'])
const maxOpsPerByte = 0x40

/// Whether the bytes at a PE's entry point are yC's stub (entry 0x60 into its section, the stage-one
/// loop's `lodsb` at +0x92).
export function looksYc (bytes: Uint8Array, entry: number): boolean {
  if (entry < 0x60 || entry + 0x20 > bytes.length || bytes[entry - 0x60 + 0x92] !== 0xac) return false
  return prologue.every((b, i) => bytes[entry + i] === b) && bytes[entry + 0x13] === 0xb9 && bytes[entry + 0x18] === 0x81 && bytes[entry + 0x19] === 0xe9
}

const rol = (x: number, n: number): number => { const k = (n & 0x1f) % 8; return ((x << k) | (x >>> (8 - k))) & 0xff }
const ror = (x: number, n: number): number => { const k = (n & 0x1f) % 8; return ((x >>> k) | (x << (8 - k))) & 0xff }

/// Runs the byte loop whose operations start at `ops` over buffer[start, start + count), in place.
/// `opsEnd` bounds where the operations may be read.
function decryptLoop (buffer: Uint8Array, ops: number, opsEnd: number, start: number, count: number): void {
  for (let i = 0; i < count; i++) {
    const cl = (count - i) & 0xff
    let al = buffer[start + i]!
    let at = ops
    for (let steps = 0; ; steps++) {
      if (steps > maxOpsPerByte || at + 3 > opsEnd) throw new Error(`yC decryptor runs past its code at ${at}`)
      const op = buffer[at]!
      const arg = buffer[at + 1]!
      if (op === 0xaa) break // stosb: this byte is done
      if (op === 0x2c) { al = (al - arg) & 0xff; at += 2 } else if (op === 0x04) { al = (al + arg) & 0xff; at += 2 } else if (op === 0x34) { al ^= arg; at += 2 } else if (op === 0x2a && arg === 0xc1) { al = (al - cl) & 0xff; at += 2 } else if (op === 0x02 && arg === 0xc1) { al = (al + cl) & 0xff; at += 2 } else if (op === 0x32 && arg === 0xc1) { al ^= cl; at += 2 } else if (op === 0xfe && arg === 0xc8) { al = (al - 1) & 0xff; at += 2 } else if (op === 0xfe && arg === 0xc0) { al = (al + 1) & 0xff; at += 2 } else if (op === 0xc0 && arg === 0xc0) { al = rol(al, buffer[at + 2]!); at += 3 } else if (op === 0xc0 && arg === 0xc8) { al = ror(al, buffer[at + 2]!); at += 3 } else if (op === 0xd2 && arg === 0xc0) { al = rol(al, cl); at += 2 } else if (op === 0xd2 && arg === 0xc8) { al = ror(al, cl); at += 2 } else if (op === 0x90 || op === 0xf8 || op === 0xf9 || op === 0xf5) at += 1 // nop, clc, stc, cmc
      else if (op === 0xeb) at += 2 + ((arg ^ 0x80) - 0x80) // jmp short over junk
      else throw new Error(`yC decryptor opcode 0x${op.toString(16)} not understood`)
    }
    buffer[start + i] = al
  }
}

export function unpackYc (bytes: Uint8Array, info: ExecutableInfo): Uint8Array | string {
  const entry = info.entryPoint
  if (entry === undefined || !looksYc(bytes, entry)) return 'no yC stub at the entry point'
  const stub = entry - 0x60
  const stubSection = info.sections.find(s => s.rawOffset === stub && s.rawSize > 0)
  if (stubSection === undefined) return 'yC stub is not at the start of a section'
  const stubEnd = Math.min(bytes.length, stub + stubSection.rawSize)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const stageOne = (view.getUint32(entry + 0x14, true) - view.getUint32(entry + 0x1a, true)) >>> 0
  if (stub + 0xc6 + stageOne > stubEnd || stub + 0x457 + 0x40 > stubEnd) return 'yC stub sizes past its section'
  const out = Uint8Array.from(bytes)
  try {
    decryptLoop(out, stub + 0x93, stub + 0xc6, stub + 0xc6, stageOne)
    for (const section of info.sections) {
      const name = section.name.slice(0, 4)
      if (section.rawSize === 0 || section.rawOffset === stub || skipped.has(name) || section.name.startsWith('yC')) continue
      if (section.rawOffset + section.rawSize > out.length) return 'yC section past the end of the file'
      decryptLoop(out, stub + 0x457, stubEnd, section.rawOffset, section.rawSize)
    }
  } catch (error) {
    return (error as Error).message
  }
  return out
}
