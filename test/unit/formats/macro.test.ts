/// VBA macro heuristics (issue #4 item 4): MS-OVBA decompression, the dir stream, and the verdict on
/// an OLE2 document built here with a VBA project (module source compressed by a literal-only
/// MS-OVBA encoder, which the spec allows).
import assert from 'node:assert/strict'
import * as CFB from 'cfb'
import { decompressVba } from '../../../src/engine/heuristics/macro.js'
import { engineFrom, scanBytes } from '../../helpers/engine.js'
import { bundledSignaturesDir } from '../../../config/schema.js'
import { eicar } from '../../helpers/eicar.js'

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

function documentWithMacro (source: string): Buffer {
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

describe('VBA macros (MS-OVBA) and Heuristics.Macro.Suspicious', () => {
  it('decompresses copy tokens (offset/length split by position in the chunk)', () => {
    // "abc" as literals, then a copy token (offset 3, length 6): MS-OVBA 2.4.1.3.19.
    const packed = Buffer.from([0x01, 0x05, 0xb0, 0x08, 0x61, 0x62, 0x63, 0x03, 0x20])
    assert.equal(decompressVba(packed, 1000)?.toString('latin1'), 'abcabcabc')
  })

  it('flags an auto-exec macro that runs a shell command', async () => {
    const engine = await engineFrom(bundledSignaturesDir)
    const doc = documentWithMacro('Attribute VB_Name = "Module1"\r\nSub AutoOpen()\r\n  Shell "cmd /c calc.exe"\r\nEnd Sub\r\n')
    const verdict = await scanBytes(engine, doc, 'invoice.doc')
    assert.equal(verdict.status, 'infected')
    assert.deepEqual(verdict.findings.map(f => f.name), ['Heuristics.Macro.Suspicious'])
    assert.deepEqual(verdict.findings[0]?.path, ['invoice.doc'])
  })

  it('passes a harmless auto-exec macro and a dangerous call without an entry point', async () => {
    const engine = await engineFrom(bundledSignaturesDir)
    assert.equal((await scanBytes(engine, documentWithMacro('Sub AutoOpen()\r\n  MsgBox "hello"\r\nEnd Sub\r\n'))).status, 'clean')
    assert.equal((await scanBytes(engine, documentWithMacro('Sub Helper()\r\n  Shell "notepad"\r\nEnd Sub\r\n'))).status, 'clean')
  })

  it('runs the signatures over the decompressed macro source', async () => {
    const engine = await engineFrom(bundledSignaturesDir)
    const doc = documentWithMacro(`Sub Helper()\r\n  x = "${eicar.toString('latin1')}"\r\nEnd Sub\r\n`)
    assert.equal(doc.indexOf(eicar), -1, 'EICAR is not in the document verbatim')
    const verdict = await scanBytes(engine, doc, 'doc')
    assert.equal(verdict.findings[0]?.name, 'Eicar-Test-Signature')
    assert.deepEqual(verdict.findings[0]?.path, ['doc', 'Macros/VBA/Module1.vba'])
  })
})
