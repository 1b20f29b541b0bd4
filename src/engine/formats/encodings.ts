/// Text encodings of binary data found in mail and news: base64, quoted-printable, uuencode, yEnc
/// and BinHex 4.0. Hand-written: each is a few lines, node has base64 only, and the npm decoders
/// (libmime, …) want whole strings in other shapes; these take latin1 text and return bytes, never
/// more than `cap` of them, so a run-length bomb (BinHex) stops at the limit.

/// Node's decoder skips whitespace; other stray characters are removed first (rare: one test).
export function base64 (text: string): Buffer {
  return Buffer.from(/[^A-Za-z0-9+/=\s]/.test(text) ? text.replace(/[^A-Za-z0-9+/]/g, '') : text, 'base64')
}

export function quotedPrintable (text: string): Buffer {
  const soft = text.replace(/=\r?\n/g, '')
  return Buffer.from(soft.replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1')
}

export interface Embedded { readonly name: string, readonly bytes: Buffer }

/// Every uuencoded block ("begin <mode> <name>" … "end") in the text.
export function uudecodeAll (text: string, cap: number): Embedded[] {
  const out: Embedded[] = []
  const begin = /^begin(?:-base64)? [0-7]{3,4} (.+?)\r?$/gm
  for (let m = begin.exec(text); m !== null && out.length < 1000; m = begin.exec(text)) {
    const lines = text.slice(m.index + m[0].length).split(/\r?\n/)
    const bytes: number[] = []
    for (const line of lines) {
      if (line.startsWith('end')) break
      if (line === '') continue
      const len = ((line.charCodeAt(0) - 32) & 63)
      if (len === 0) continue
      const chars = line.slice(1)
      const group: number[] = []
      for (let i = 0; i < chars.length && group.length < len; i += 4) {
        const c = [0, 1, 2, 3].map(k => ((chars.charCodeAt(i + k) || 32) - 32) & 63)
        const [a = 0, b = 0, d = 0, e = 0] = c
        group.push(((a << 2) | (b >> 4)) & 255, ((b << 4) | (d >> 2)) & 255, ((d << 6) | e) & 255)
      }
      for (const b of group.slice(0, len)) bytes.push(b)
      if (bytes.length > cap) break
    }
    out.push({ name: (m[1] ?? 'uudecoded').trim(), bytes: Buffer.from(bytes.slice(0, cap)) })
  }
  return out
}

/// Every yEnc block ("=ybegin … name=" … "=yend") in the text.
export function ydecodeAll (text: string, cap: number): Embedded[] {
  const out: Embedded[] = []
  const begin = /^=ybegin .*?name=(.*?)\r?$/gm
  for (let m = begin.exec(text); m !== null && out.length < 1000; m = begin.exec(text)) {
    const rest = text.slice(m.index + m[0].length)
    const end = rest.search(/^=yend/m)
    const body = (end === -1 ? rest : rest.slice(0, end)).replace(/^=ypart .*\r?\n/m, '')
    const bytes = Buffer.alloc(Math.min(body.length, cap))
    let n = 0
    for (let i = 0; i < body.length && n < bytes.length; i++) {
      let c = body.charCodeAt(i)
      if (c === 13 || c === 10) continue
      if (c === 61) c = (body.charCodeAt(++i) - 64) & 255 // '=' escapes the next byte (+64)
      bytes[n++] = (c - 42) & 255
    }
    out.push({ name: (m[1] ?? 'ydecoded').trim(), bytes: bytes.subarray(0, n) })
  }
  return out
}

const binhexAlphabet = '!"#$%&\'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr'

/// BinHex 4.0: the data fork (and, when not empty, the resource fork) of the encoded file.
export function binhexDecode (text: string, cap: number): Embedded[] {
  const start = text.indexOf(':', text.indexOf('(This file must be converted with BinHex'))
  if (start === -1) return []
  const end = text.indexOf(':', start + 1)
  const body = text.slice(start + 1, end === -1 ? undefined : end)
  const six: number[] = []
  for (const ch of body) {
    const v = binhexAlphabet.indexOf(ch)
    if (v !== -1) six.push(v)
  }
  const packed: number[] = []
  for (let i = 0; i + 1 < six.length; i += 4) {
    const [a = 0, b = 0, c = 0, d = 0] = six.slice(i, i + 4)
    packed.push(((a << 2) | (b >> 4)) & 255)
    if (i + 2 < six.length) packed.push(((b << 4) | (c >> 2)) & 255)
    if (i + 3 < six.length) packed.push(((c << 6) | d) & 255)
  }
  // Run-length: 0x90 n repeats the previous byte n-1 more times; 0x90 0 is a literal 0x90.
  const limit = cap + 1024
  const raw = Buffer.alloc(Math.min(limit, packed.length * 4 + 64))
  let n = 0
  let prev = 0
  const put = (b: number): boolean => {
    if (n >= raw.length) return false
    raw[n++] = b
    return true
  }
  for (let i = 0; i < packed.length; i++) {
    const b = packed[i] ?? 0
    if (b === 0x90) {
      const count = packed[++i] ?? 0
      if (count === 0) { put(0x90); prev = 0x90; continue }
      for (let k = 1; k < count; k++) if (!put(prev)) break
    } else {
      put(b)
      prev = b
    }
    if (n >= raw.length) break
  }
  const nameLen = raw[0] ?? 0
  const name = raw.toString('latin1', 1, 1 + nameLen)
  const at = 1 + nameLen + 1 + 4 + 4 + 2
  if (at + 10 > n) return []
  const dataLen = raw.readUInt32BE(at)
  const rsrcLen = raw.readUInt32BE(at + 4)
  const dataAt = at + 10
  const out: Embedded[] = [{ name: name !== '' ? name : 'binhex-data', bytes: raw.subarray(dataAt, Math.min(n, dataAt + dataLen, dataAt + cap)) }]
  const rsrcAt = dataAt + dataLen + 2
  if (rsrcLen > 0 && rsrcAt < n) out.push({ name: `${name}.rsrc`, bytes: raw.subarray(rsrcAt, Math.min(n, rsrcAt + rsrcLen)) })
  return out
}
