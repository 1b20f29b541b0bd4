/// The OLE1 "Package" object (a file dropped into a document: Ole10Native streams in OLE2, \objdata
/// in RTF) and the OLE1 object header around it. Hand-written: undocumented by Microsoft beyond
/// MS-OLEDS §2.2, a few length-prefixed fields, no library reads it.

export interface Packaged { readonly name: string, readonly data: Uint8Array }

function cstring (b: Buffer, at: number): [string, number] | undefined {
  const end = b.indexOf(0, at)
  if (end === -1 || end - at > 4096) return undefined
  return [b.toString('latin1', at, end), end + 1]
}

/// Package native data: u16 type, label\0, source path\0, u32 (0x00030000), u32 len + temp path,
/// u32 size + the file's bytes.
export function parsePackage (bytes: Uint8Array): Packaged | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  if (b.length < 16) return undefined
  const label = cstring(b, 2)
  if (label === undefined) return undefined
  const path = cstring(b, label[1])
  if (path === undefined) return undefined
  let at = path[1] + 4
  if (at + 4 > b.length) return undefined
  const tmpLen = b.readUInt32LE(at)
  at += 4 + tmpLen
  if (at + 4 > b.length) return undefined
  const size = b.readUInt32LE(at)
  at += 4
  if (size === 0 || at + size > b.length) return undefined
  const name = (label[0] !== '' ? label[0] : path[0].split(/[\\/]/).pop()) ?? 'package'
  return { name: name !== '' ? name : 'package', data: b.subarray(at, at + size) }
}

/// An OLE1 embedded object (MS-OLEDS §2.2.4): its class name and native data.
export function parseOle1 (bytes: Uint8Array): { className: string, native: Uint8Array } | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  let at = 8 // OLEVersion, FormatID
  const lenString = (): string | undefined => {
    if (at + 4 > b.length) return undefined
    const len = b.readUInt32LE(at)
    if (len > 4096 || at + 4 + len > b.length) return undefined
    const s = b.toString('latin1', at + 4, at + 4 + len).replace(/\0+$/, '')
    at += 4 + len
    return s
  }
  const className = lenString()
  if (className === undefined || lenString() === undefined || lenString() === undefined) return undefined
  if (at + 4 > b.length) return undefined
  const size = b.readUInt32LE(at)
  const native = b.subarray(at + 4, Math.min(b.length, at + 4 + size))
  return { className, native }
}
