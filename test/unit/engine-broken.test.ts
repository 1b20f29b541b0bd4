/// Failures are findings, never silence (issue #10, item 1): a handler that fails or a decoder that
/// reports damage becomes Heuristics.Broken.<Format> in the verdict, with the container path and the
/// error text; what was found before the break still counts; a fault outside a handler is an `error`
/// verdict, never a rejected promise; policy passes broken by default and blocks it when asked; and
/// an archive hidden past offset 0 is walked (and scanLeaf leaves such objects to scan()).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deflateRawSync, gzipSync } from 'node:zlib'
import { MemorySource, type ByteSource } from '../../src/engine/source.js'
import { defaultLimits } from '../../src/engine/budget.js'
import { decide, defaultProfile } from '../../src/policy/decide.js'
import type { Engine } from '../../src/engine/engine.js'
import { eicar } from '../helpers/eicar.js'
import { builders } from '../helpers/containers.js'
import { zipOf } from '../helpers/zipwriter.js'
import { hashOnlyEngine, scanBytes } from '../helpers/engine.js'

/// A source whose reads from `failAt` on fail the way a vanished spool file does (EIO from the disk):
/// the only way to make a correct handler throw on demand without a bug in it.
class FailingSource implements ByteSource {
  readonly #inner: MemorySource
  readonly #failAt: number
  constructor (bytes: Uint8Array, failAt: number) {
    this.#inner = new MemorySource(bytes)
    this.#failAt = failAt
  }

  get size (): number { return this.#inner.size }
  async head (n: number): Promise<Uint8Array> { return await this.read(0, n) }
  async read (offset: number, length: number): Promise<Uint8Array> {
    if (offset >= this.#failAt) throw Object.assign(new Error(`EIO: i/o error, read at ${offset}`), { code: 'EIO' })
    return await this.#inner.read(offset, length)
  }

  async * chunks (chunkSize?: number): AsyncIterable<Uint8Array> { yield * this.#inner.chunks(chunkSize) }
}

/// A source whose streaming read fails: the walk itself (not a handler) meets the fault.
class UnreadableSource implements ByteSource {
  readonly size = 100
  async head (): Promise<Uint8Array> { return new Uint8Array(100) }
  async read (): Promise<Uint8Array> { return new Uint8Array(100) }
  async * chunks (): AsyncIterable<Uint8Array> { throw new Error('EIO: i/o error, read') }
}

const signal = (): AbortSignal => new AbortController().signal

describe('broken containers are findings; engine faults are error verdicts (issue #10)', function () {
  this.timeout(60_000)
  let engine: Engine
  before(async () => { engine = await hashOnlyEngine(eicar, 'Test.EICAR.HDB') })

  it('a handler that throws gives Heuristics.Broken.<Format> with the path and the error text', async () => {
    const zip = zipOf([{ name: 'a.txt', method: 0, data: Buffer.alloc(120_000, 'a'), size: 120_000 }])
    // The walk reads the head and probes for ISO 9660 at 0x8001; the zip handler then reads the last
    // 64 KiB for the central directory, and that read fails.
    const tailStart = zip.length - (65_535 + 22)
    const verdict = await engine.scan(new FailingSource(zip, 0x8001 + 5), 'object', defaultLimits, signal())
    assert.equal(verdict.status, 'broken')
    assert.deepEqual(verdict.findings, [{ name: 'Heuristics.Broken.Zip', kind: 'broken', path: ['object'], detail: `EIO: i/o error, read at ${tailStart}` }])
  })

  it('a damaged container deeper down is reported at its own path', async () => {
    const gz = gzipSync(Buffer.alloc(5000, 'x'))
    const tar = builders.find(b => b.format === 'tar (ustar)')?.build({ name: 'cut.gz', bytes: gz.subarray(0, gz.length - 20) }) ?? Buffer.alloc(0)
    const verdict = await scanBytes(engine, tar)
    assert.equal(verdict.status, 'broken')
    assert.equal(verdict.findings.length, 1)
    assert.equal(verdict.findings[0]?.name, 'Heuristics.Broken.GZip')
    assert.deepEqual(verdict.findings[0]?.path, ['object', 'cut.gz'])
    assert.match(verdict.findings[0]?.detail ?? '', /unexpected end of file/)
  })

  it('what was found before the break still counts, and the break is carried with it', async () => {
    // An encrypted member, then a member whose deflate data is cut: encrypted decides, broken rides along.
    const enc = execZip()
    const cut = deflateRawSync(Buffer.alloc(4000, 'y')).subarray(0, 20)
    const bytes = Buffer.concat([enc.subarray(0, enc.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]))), zipOf([{ name: 'cut.bin', method: 8, data: cut, size: 4000 }]).subarray(0, 30 + 7 + cut.length)])
    const verdict = await scanBytes(engine, bytes)
    assert.equal(verdict.status, 'encrypted')
    assert.deepEqual(verdict.findings.map(f => f.name), ['Heuristics.Encrypted.Zip', 'Heuristics.Broken.Zip'])
    // And a detection beside a damaged member: infected first, the damage after it.
    const withEicar = Buffer.concat([gzipSync(eicar), Buffer.from([0x1f, 0x8b, 0x08, 0x00])])
    const found = await scanBytes(engine, builders.find(b => b.format === 'tar (ustar)')?.build({ name: 'x.gz', bytes: withEicar }) ?? Buffer.alloc(0))
    assert.equal(found.status, 'infected')
    assert.equal(found.findings[0]?.name, 'Test.EICAR.HDB')
  })

  it('a fault outside any handler is an error verdict with a code, not a rejected promise', async () => {
    const verdict = await engine.scan(new UnreadableSource(), 'object', defaultLimits, signal())
    assert.equal(verdict.status, 'error')
    assert.deepEqual(verdict.error, { code: 'SCAN_ENGINE_FAILED', message: 'EIO: i/o error, read' })
  })

  it('policy: broken passes by default and blocks when blockBroken is set; error fails closed', async () => {
    const verdict = await scanBytes(engine, gzipSync(Buffer.alloc(5000, 'x')).subarray(0, 20))
    assert.equal(verdict.status, 'broken')
    assert.deepEqual(decide(verdict, { service: 'avscan' }, defaultProfile), { action: 'allow', reason: 'broken' })
    assert.deepEqual(decide(verdict, { service: 'avscan' }, { ...defaultProfile, blockBroken: true }), { action: 'block', reason: 'broken', threat: 'Heuristics.Broken.GZip' })
    const failed = await engine.scan(new UnreadableSource(), 'object', defaultLimits, signal())
    assert.equal(decide(failed, { service: 'avscan' }, defaultProfile).action, 'block')
  })

  it('walks a zip hidden past offset 0, and scanLeaf leaves such objects to scan()', async () => {
    const zip = zipOf([{ name: 'eicar.com', method: 8, data: deflateRawSync(eicar), size: eicar.length }])
    const hidden = Buffer.concat([Buffer.from('%%% just some text before the archive %%%\n'), zip])
    const verdict = await scanBytes(engine, hidden)
    assert.equal(verdict.status, 'infected')
    assert.deepEqual(verdict.findings[0]?.path, ['object', `embedded@${hidden.length - zip.length}`, 'eicar.com'])
    assert.equal(engine.scanLeaf(hidden, 'object'), undefined)
    assert.equal(engine.scanLeaf(Buffer.from('plain text, nothing in it'), 'object')?.status, 'clean')
  })

  it('finds a zip appended past the first 64 KiB by its end record, as written and with offsets from the file start', async () => {
    const zip = zipOf([{ name: 'eicar.com', method: 8, data: deflateRawSync(eicar), size: eicar.length }])
    const prefix = Buffer.alloc(200_000, 0x20) // text-like, no handler, past the head window
    const appended = Buffer.concat([prefix, zip])
    const verdict = await scanBytes(engine, appended)
    assert.equal(verdict.status, 'infected')
    assert.deepEqual(verdict.findings[0]?.path, ['object', `embedded@${prefix.length}`, 'eicar.com'])
    // `zip -A`: every offset counts from the file's start, so the end record's arithmetic gives 0 and
    // the first directory entry's local header offset names the start.
    const adjusted = Buffer.from(appended)
    const end = adjusted.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]))
    const dir = end - adjusted.readUInt32LE(end + 12)
    adjusted.writeUInt32LE(adjusted.readUInt32LE(end + 16) + prefix.length, end + 16)
    adjusted.writeUInt32LE(adjusted.readUInt32LE(dir + 42) + prefix.length, dir + 42)
    const shifted = await scanBytes(engine, adjusted)
    assert.equal(shifted.status, 'infected')
    assert.deepEqual(shifted.findings[0]?.path, ['object', `embedded@${prefix.length}`, 'eicar.com'])
  })

  it('a stray archive magic in an ordinary object is neither walked nor reported', async () => {
    const bytes = Buffer.concat([Buffer.alloc(1000, 0x20), Buffer.from('PK\x03\x04 is how a zip starts'), Buffer.alloc(1000, 0x20)])
    const verdict = await scanBytes(engine, bytes)
    assert.deepEqual({ status: verdict.status, objects: verdict.stats.objects }, { status: 'clean', objects: 1 })
  })

  it('a damaged 7-Zip-backed archive is broken, and process.exitCode is left as it was', async () => {
    const exitCode = process.exitCode
    const sz = builders.find(b => b.format === '7z')?.build({ name: 'eicar.com', bytes: eicar }) ?? Buffer.alloc(0)
    const verdict = await scanBytes(engine, sz.subarray(0, sz.length - 7))
    assert.equal(verdict.status, 'broken')
    assert.match(verdict.findings[0]?.detail ?? '', /^7-Zip/)
    assert.equal(process.exitCode, exitCode)
    // Two engines, each with its own 7-Zip, interleaved: each finds its payload.
    const other = await hashOnlyEngine(eicar, 'Test.EICAR.HDB')
    const both = await Promise.all([scanBytes(engine, sz), scanBytes(other, sz)])
    assert.deepEqual(both.map(v => v.findings[0]?.path), [['object', 'eicar.com'], ['object', 'eicar.com']])
  })
})

/// A real encrypted zip (zip -P) of a harmless file.
function execZip (): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-enc-'))
  try {
    writeFileSync(join(dir, 'a.txt'), 'hello world, nothing to see here at all')
    execFileSync('zip', ['-q', '-P', 'secret', 'e.zip', 'a.txt'], { cwd: dir })
    return readFileSync(join(dir, 'e.zip'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
