/// The PDF stream filters node:zlib does not cover (ISO 32000-1 §7.4.2-7.4.5): ASCIIHex, ASCII85,
/// LZW (with EarlyChange 1, the default) and RunLength. Hand-written: each is a page of the spec,
/// and the expanding ones stop at `cap` output bytes ('limit').

export function asciiHex (data: Buffer): Buffer {
  const s = data.toString('latin1')
  const end = s.indexOf('>')
  const hex = (end === -1 ? s : s.slice(0, end)).replace(/[^0-9A-Fa-f]/g, '')
  return Buffer.from(hex.length % 2 === 0 ? hex : hex + '0', 'hex')
}

export function ascii85 (data: Buffer): Buffer {
  let s = data.toString('latin1').replace(/\s+/g, '')
  if (s.startsWith('<~')) s = s.slice(2)
  const end = s.indexOf('~>')
  if (end !== -1) s = s.slice(0, end)
  const out: number[] = []
  let group: number[] = []
  for (const ch of s) {
    if (ch === 'z' && group.length === 0) { out.push(0, 0, 0, 0); continue }
    const v = ch.charCodeAt(0) - 33
    if (v < 0 || v > 84) continue
    group.push(v)
    if (group.length === 5) {
      const n = group.reduce((acc, d) => acc * 85 + d, 0)
      out.push((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255)
      group = []
    }
  }
  if (group.length > 1) {
    const pad = 5 - group.length
    const n = [...group, ...Array<number>(pad).fill(84)].reduce((acc, d) => acc * 85 + d, 0)
    const bytes = [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]
    out.push(...bytes.slice(0, 4 - pad))
  }
  return Buffer.from(out)
}

export function lzwDecode (data: Buffer, cap: number): Buffer | 'limit' {
  const table: Uint8Array[] = []
  const reset = (): void => {
    table.length = 0
    for (let i = 0; i < 256; i++) table.push(Uint8Array.of(i))
    table.push(new Uint8Array(0), new Uint8Array(0)) // 256 clear, 257 end of data
  }
  reset()
  const out: Uint8Array[] = []
  let size = 0
  let width = 9
  let prev: Uint8Array | undefined
  let bits = 0
  let acc = 0
  for (const byte of data) {
    acc = (acc << 8) | byte
    bits += 8
    while (bits >= width) {
      bits -= width
      const code = (acc >>> bits) & ((1 << width) - 1)
      acc &= (1 << bits) - 1
      if (code === 256) { reset(); width = 9; prev = undefined; continue }
      if (code === 257) return Buffer.concat(out, size)
      let entry = table[code]
      if (entry === undefined) {
        if (prev === undefined || code !== table.length) return Buffer.concat(out, size) // corrupt
        entry = Uint8Array.of(...prev, prev[0] ?? 0)
      }
      if (prev !== undefined && table.length < 4096) table.push(Uint8Array.of(...prev, entry[0] ?? 0))
      out.push(entry)
      size += entry.length
      if (size > cap) return 'limit'
      prev = entry
      // EarlyChange 1: the width grows one code early.
      if (table.length + 1 >= (1 << width) && width < 12) width++
    }
  }
  return Buffer.concat(out, size)
}

export function runLength (data: Buffer, cap: number): Buffer | 'limit' {
  const out: number[] = []
  for (let i = 0; i < data.length;) {
    const len = data[i++] ?? 128
    if (len === 128) break
    if (len < 128) { for (let k = 0; k <= len && i < data.length; k++) out.push(data[i++] ?? 0) } else {
      const b = data[i++] ?? 0
      for (let k = 0; k < 257 - len; k++) out.push(b)
    }
    if (out.length > cap) return 'limit'
  }
  return Buffer.from(out)
}
