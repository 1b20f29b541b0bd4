/// VBA macro heuristics (issue #4 item 4): MS-OVBA decompression, the dir stream, and the verdict on
/// an OLE2 document built here with a VBA project (module source compressed by a literal-only
/// MS-OVBA encoder, which the spec allows).
import assert from 'node:assert/strict'
import { decompressVba } from '../../../src/engine/heuristics/macro.js'
import { engineFrom, scanBytes } from '../../helpers/engine.js'
import { bundledSignaturesDir } from '../../../config/schema.js'
import { eicar } from '../../helpers/eicar.js'
import { documentWithMacro } from '../../helpers/vba-doc.js'

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
