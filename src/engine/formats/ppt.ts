/// PowerPoint 97-2003 embedded objects (MS-PPT §2.10.34 ExOleObjStg): inside the "PowerPoint
/// Document" stream, records of type 0x1011 hold an embedded OLE object, zlib-compressed when the
/// record instance is 1 (a 4-byte decompressed size, then the zlib stream). Hand-written: a walk over
/// 8-byte record headers; node:zlib inflates with maxOutputLength at the declared size.
import { inflateSync } from 'node:zlib'

const ExOleObjStg = 0x1011
const containerVersion = 0xf

export interface PptObject { readonly name: string, readonly bytes: Buffer }

export function pptObjects (stream: Uint8Array, cap: number): PptObject[] {
  const b = Buffer.from(stream.buffer, stream.byteOffset, stream.length)
  const out: PptObject[] = []
  for (let at = 0; at + 8 <= b.length && out.length < 1000;) {
    const verInstance = b.readUInt16LE(at)
    const type = b.readUInt16LE(at + 2)
    const len = b.readUInt32LE(at + 4)
    if ((verInstance & 0xf) === containerVersion) { at += 8; continue } // step into containers
    if (type === ExOleObjStg && at + 8 + len <= b.length) {
      const body = b.subarray(at + 8, at + 8 + len)
      if ((verInstance >> 4) === 1 && body.length > 4) {
        const size = body.readUInt32LE(0)
        if (size <= cap) {
          try {
            out.push({ name: `ExOleObjStg-${out.length}`, bytes: inflateSync(body.subarray(4), { maxOutputLength: Math.max(1, size) }) })
          } catch { /* corrupt or larger than declared: skip */ }
        }
      } else out.push({ name: `ExOleObjStg-${out.length}`, bytes: Buffer.from(body) })
    }
    at += 8 + len
  }
  return out
}
