/// A yC-shaped test program: a PE whose `.text` and the second stage of its stub are encrypted with
/// byte loops the way yC's stub encrypts them (stage one at stub+0x93 over stub+0xC6, stage two at
/// stub+0x457 over each section), built from the plain file so the test knows exactly what the
/// unpacker must give back. The loops' operations are fixed here (SUB AL,CL; ROL AL,3; XOR AL,5A and
/// ADD AL,11; ROR AL,CL); each byte is encrypted by the inverse operations in reverse order.
import { peWithSections } from './installer-writer.js'

const rol = (x: number, n: number): number => { const k = n % 8; return ((x << k) | (x >>> (8 - k))) & 0xff }
const ror = (x: number, n: number): number => { const k = n % 8; return ((x >>> k) | (x << (8 - k))) & 0xff }

const stageOneLength = 0x400

function stub (): Buffer {
  const s = Buffer.alloc(0x600, 0x90)
  s.set([0x55, 0x8b, 0xec, 0x53, 0x56, 0x57, 0x60, 0xe8, 0, 0, 0, 0, 0x5d, 0x81, 0xed, 0, 0, 0, 0], 0x60)
  s[0x60 + 0x13] = 0xb9
  s.writeUInt32LE(0x402000 + stageOneLength, 0x60 + 0x14)
  s.set([0x81, 0xe9], 0x60 + 0x18)
  s.writeUInt32LE(0x402000, 0x60 + 0x1a)
  s[0x92] = 0xac // lodsb
  s.set([0x2a, 0xc1, 0xc0, 0xc0, 0x03, 0x34, 0x5a, 0xaa], 0x93)
  s[0x456] = 0xac
  s.set([0x04, 0x11, 0xd2, 0xc8, 0xaa], 0x457)
  return s
}

/// The plain program (what the unpacker must return) and its yC-encrypted form.
export function ycPair (code: Uint8Array): { plain: Buffer, packed: Buffer } {
  const text = Buffer.alloc(0x200)
  text.set(code.subarray(0, 0x200))
  const plain = peWithSections([['.text', text], ['yC', stub()]], 1, 0x60)
  const packed = Buffer.from(plain)
  const textAt = 0x400
  const stubAt = 0x600
  for (let i = 0; i < 0x200; i++) { // stage two: ADD AL,11; ROR AL,CL
    const cl = (0x200 - i) & 0xff
    packed[textAt + i] = (rol(packed[textAt + i]!, cl) - 0x11) & 0xff
  }
  for (let i = 0; i < stageOneLength; i++) { // stage one: SUB AL,CL; ROL AL,3; XOR AL,5A
    const cl = (stageOneLength - i) & 0xff
    const at = stubAt + 0xc6 + i
    packed[at] = (ror(packed[at]! ^ 0x5a, 3) + cl) & 0xff
  }
  return { plain, packed }
}
