/// UPX's x86 "call trick" filters, undone. Before compressing code, UPX rewrites the 32-bit operand of
/// each CALL (E8) and/or JMP (E9) from relative to absolute (position in the buffer), which compresses
/// better; the stub reverses it after decompression, and so must we or the code bytes of the original
/// program (what signatures describe) stay scrambled. From UPX's published filter list:
///   0x11-0x13  E8 / E9 / E8+E9, absolute stored little-endian;
///   0x14-0x16  the same, stored big-endian;
///   0x24-0x26  E8 / E9 / E8+E9 whose target lies in the buffer, stored big-endian with the top byte
///              replaced by the marker `cto` (other calls are left alone and do not carry it).
/// Other filter numbers (jump-table and MRU variants) are left undone: the image still scans, only the
/// operands of those branches differ from the original.

export function unfilter (buffer: Uint8Array, filter: number, cto: number): void {
  if (filter === 0) return
  const kind = filter & 0x0f
  const family = filter & 0xf0
  if (!(family === 0x10 && kind >= 1 && kind <= 6) && !(family === 0x20 && kind >= 4 && kind <= 6)) return
  const which = family === 0x10 ? ((kind - 1) % 3) + 1 : kind - 3 // 1: E8, 2: E9, 3: both
  const bigEndian = family === 0x20 || kind >= 4
  const isBranch = (b: number): boolean => (b === 0xe8 && which !== 2) || (b === 0xe9 && which !== 1)
  const end = buffer.length - 5
  for (let at = 0; at < end; at++) {
    if (!isBranch(buffer[at]!)) continue
    if (family === 0x20 && buffer[at + 1] !== cto) continue
    const o = at + 1
    let stored = bigEndian
      ? ((buffer[o]! << 24) | (buffer[o + 1]! << 16) | (buffer[o + 2]! << 8) | buffer[o + 3]!) >>> 0
      : (buffer[o]! | (buffer[o + 1]! << 8) | (buffer[o + 2]! << 16) | (buffer[o + 3]! << 24)) >>> 0
    if (family === 0x20) stored = stored & 0xffffff
    const relative = (stored - o) >>> 0
    buffer[o] = relative & 0xff
    buffer[o + 1] = (relative >>> 8) & 0xff
    buffer[o + 2] = (relative >>> 16) & 0xff
    buffer[o + 3] = relative >>> 24
    at += 4
  }
}
