/// A Word document (OLE2) with one VBA module, written as MS-OVBA lays it out: a compressed `dir`
/// stream naming Module1 and the module's compressed source. Shared by the macro heuristic's tests
/// and the policy's (blockMacros).
import * as CFB from 'cfb'

/// MS-OVBA 2.4.1 with every token a literal: flag byte 0, then up to eight bytes.
function compress (data: Buffer): Buffer {
  const chunks: Buffer[] = [Buffer.from([0x01])]
  for (let at = 0; at < data.length; at += 4096) {
    const part = data.subarray(at, at + 4096)
    const body: number[] = []
    for (let i = 0; i < part.length; i += 8) body.push(0, ...part.subarray(i, i + 8))
    const header = Buffer.alloc(2)
    header.writeUInt16LE(0xb000 | (body.length + 2 - 3))
    chunks.push(header, Buffer.from(body))
  }
  return Buffer.concat(chunks)
}

function record (id: number, body: Buffer): Buffer {
  const h = Buffer.alloc(6)
  h.writeUInt16LE(id, 0)
  h.writeUInt32LE(body.length, 2)
  return Buffer.concat([h, body])
}

export function documentWithMacro (source: string): Buffer {
  const offset = Buffer.alloc(4)
  offset.writeUInt32LE(64)
  const dir = Buffer.concat([
    record(0x0019, Buffer.from('Module1')), record(0x001a, Buffer.from('Module1')), record(0x0032, Buffer.from('Module1', 'utf16le')),
    record(0x0031, offset), record(0x002b, Buffer.alloc(0)), record(0x0010, Buffer.alloc(0)),
  ])
  const doc = CFB.utils.cfb_new()
  CFB.utils.cfb_add(doc, 'WordDocument', Buffer.alloc(512, 7))
  CFB.utils.cfb_add(doc, 'Macros/VBA/dir', compress(dir))
  CFB.utils.cfb_add(doc, 'Macros/VBA/Module1', Buffer.concat([Buffer.alloc(64, 0xcc), compress(Buffer.from(source, 'latin1'))]))
  return Buffer.from(CFB.write(doc, { type: 'buffer' }) as Uint8Array)
}
