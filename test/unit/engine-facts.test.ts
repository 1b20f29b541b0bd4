/// The facts the walk reports for the policy, on objects made by the real tools: the true type of
/// each layer, Authenticode blocks of PE programs, DLLs/OCX and CABs (signed by osslsigncode) with
/// the signer's name, JARs signed by jarsigner, bare class files, VBA macros, scripts, encryption.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { engineFrom, scanBytes } from '../helpers/engine.js'
import { authenticodeSign, makeCab, makeJar, makePublisher, minimalPe, publisher, read, writeTo, type Publisher } from '../helpers/signed-code.js'
import { bundledSignaturesDir } from '../../config/schema.js'
import type { Engine } from '../../src/engine/engine.js'
import type { ObjectFacts } from '../../src/engine/verdict.js'
import { documentWithMacro } from '../helpers/vba-doc.js'

describe('engine facts', function () {
  this.timeout(120_000)
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-facts-'))
  let engine: Engine
  let signer: Publisher
  before(async () => {
    engine = await engineFrom(bundledSignaturesDir)
    signer = makePublisher(join(dir, 'publisher'))
  })
  after(() => { rmSync(dir, { recursive: true, force: true }) })
  const facts = async (bytes: Uint8Array): Promise<ObjectFacts> => {
    const v = await scanBytes(engine, bytes)
    assert.ok(v.facts !== undefined, JSON.stringify(v))
    return v.facts
  }

  it('an unsigned PE program and DLL: no signature, DLL flag from the COFF header', async () => {
    const exe = await facts(minimalPe())
    assert.deepEqual(exe.types, ['pe'])
    assert.deepEqual(exe.code, [{ kind: 'pe', path: ['object'], signed: false, dll: false }])
    const ocx = await facts(minimalPe(true))
    assert.deepEqual(ocx.code, [{ kind: 'pe', path: ['object'], signed: false, dll: true }])
  })

  it('a PE and an OCX signed by osslsigncode: signed, with the publisher\'s CN', async () => {
    for (const dll of [false, true]) {
      const input = writeTo(dir, `in${String(dll)}.exe`, minimalPe(dll))
      const out = join(dir, `signed${String(dll)}.exe`)
      authenticodeSign(input, out, signer)
      const f = await facts(read(out))
      assert.deepEqual(f.code, [{ kind: 'pe', path: ['object'], signed: true, signer: publisher, dll }])
    }
  })

  it('a CAB from gcab: unsigned; signed by osslsigncode: signed by the publisher', async () => {
    const cab = makeCab(dir, 'plain')
    const plain = await facts(read(cab))
    assert.equal(plain.types[0], 'cab')
    assert.deepEqual(plain.code[0], { kind: 'cab', path: ['object'], signed: false })
    const signed = join(dir, 'signed.cab')
    authenticodeSign(cab, signed, signer)
    assert.deepEqual((await facts(read(signed))).code[0], { kind: 'cab', path: ['object'], signed: true, signer: publisher })
  })

  it('a JAR: unsigned, and signed by jarsigner (META-INF/*.SF + *.RSA) with the signer\'s CN; a bare class file', async () => {
    const plain = await facts(read(makeJar(dir, 'plain')))
    assert.ok(plain.types.includes('zip') && plain.types.includes('java-class'), plain.types.join())
    assert.deepEqual(plain.code, [{ kind: 'jar', path: ['object'], signed: false }])
    const signed = await facts(read(makeJar(dir, 'signed', signer)))
    assert.deepEqual(signed.code, [{ kind: 'jar', path: ['object'], signed: true, signer: publisher }])
    const applet = await facts(Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52, 1, 2, 3, 4]))
    assert.deepEqual(applet.code, [{ kind: 'jar', path: ['object'], signed: false }])
  })

  it('a zip holding a PE: both types, the PE\'s path inside the zip', async () => {
    writeFileSync(join(dir, 'tool.exe'), minimalPe())
    execFileSync('zip', ['-q', '-j', join(dir, 'tool.zip'), join(dir, 'tool.exe')])
    const f = await facts(read(join(dir, 'tool.zip')))
    assert.deepEqual(f.types, ['zip', 'pe'])
    assert.deepEqual(f.code, [{ kind: 'pe', path: ['object', 'tool.exe'], signed: false, dll: false }])
  })

  it('an encrypted zip, a script, and plain text', async () => {
    writeFileSync(join(dir, 'secret.txt'), 'secret words\n')
    execFileSync('zip', ['-q', '-j', '-P', 'pw', join(dir, 'secret.zip'), join(dir, 'secret.txt')])
    assert.equal((await facts(read(join(dir, 'secret.zip')))).encrypted, true)
    assert.equal((await facts(Buffer.from('#!/bin/sh\necho hi\n'.repeat(2000)))).script, true)
    const text = await facts(Buffer.from('just words\n'.repeat(3000)))
    assert.deepEqual([text.script, text.code.length, text.macros, text.encrypted], [false, 0, false, false])
  })

  it('an Office document with a VBA macro; the same document without one', async () => {
    const doc = await facts(documentWithMacro('Sub Hello()\r\n  MsgBox "hi"\r\nEnd Sub\r\n'))
    assert.deepEqual([doc.types[0], doc.macros], ['ole2', true])
    assert.equal((await facts(Buffer.from(read(join(dir, 'secret.zip'))))).macros, false)
  })

  it('the facts of a leaf matched on the I/O thread are those of the walk', async () => {
    const bytes = Buffer.from('#!/usr/bin/perl\nprint 1;\n')
    const leaf = engine.scanLeaf(bytes, 'object')
    assert.deepEqual(leaf?.facts, await facts(bytes))
  })
})
