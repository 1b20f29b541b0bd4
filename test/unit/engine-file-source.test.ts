import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { engineFrom, scanFile } from '../helpers/engine.js'
import { FileSource } from '../../src/engine/source.js'
import type { Engine } from '../../src/engine/engine.js'

// The walk reads a spooled file through one reused chunk buffer (ChunkOptions.reuse), while decoders
// (gzip) read the same kind of source with fresh chunks because their Readable holds on to them.
describe('engine: spooled files read through a reused chunk buffer', () => {
  const mib = 1 << 20
  const sigs = ['aa01aa02aa03aa04aa05aa06', 'bb01bb02bb03bb04bb05bb06', 'cc01cc02cc03cc04cc05cc06']
  const body = randomBytes(3 * mib + 4321)
  // Each signature straddles one 1 MiB boundary of the walk's chunks and one 256 KiB boundary of gzip's.
  sigs.forEach((s, i) => { Buffer.from(s, 'hex').copy(body, (i + 1) * mib - 5) })
  let dir: string
  let engine: Engine
  let hashOnly: Engine

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scanwall-file-source-'))
    const db = join(dir, 'db')
    writeFileSync(join(dir, 'body.bin'), body)
    writeFileSync(join(dir, 'body.gz'), gzipSync(body))
    mkdirSync(db)
    writeFileSync(join(db, 'f.ndb'), sigs.map((s, i) => `File.Boundary.${i}:0:*:${s}`).join('\n') + '\n')
    // The whole-object hash needs every byte of every chunk as it was when the chunk was read.
    writeFileSync(join(db, 'f.hdb'), `${createHash('md5').update(body).digest('hex')}:${body.length}:File.Whole.Hash\n`)
    engine = await engineFrom(db)
    // Deflate keeps random bytes nearly verbatim, so the body signatures would already match the .gz.
    hashOnly = await engineFrom(db, ['f.hdb'])
  })

  after(() => { rmSync(dir, { recursive: true, force: true }) })

  it('finds signatures across chunk boundaries and hashes the whole file', async () => {
    const v = await scanFile(engine, join(dir, 'body.bin'), 'body.bin')
    assert.deepEqual(v.findings.map(f => f.name).sort(), ['File.Boundary.0', 'File.Boundary.1', 'File.Boundary.2', 'File.Whole.Hash'])
  })

  it('decodes a gzip file read with fresh chunks into the exact bytes (the hash matches)', async () => {
    const v = await scanFile(hashOnly, join(dir, 'body.gz'), 'body.gz')
    assert.deepEqual(v.findings.map(f => [f.name, f.path]), [['File.Whole.Hash', ['body.gz', 'gzip-content']]])
  })

  it('hands out one buffer for every chunk only when asked to', async () => {
    const source = new FileSource(join(dir, 'body.bin'), body.length)
    const reused = new Set<ArrayBufferLike>()
    const fresh = new Set<ArrayBufferLike>()
    for await (const chunk of source.chunks(mib, { reuse: true })) reused.add(chunk.buffer)
    for await (const chunk of source.chunks(mib)) fresh.add(chunk.buffer)
    assert.equal(reused.size, 1)
    assert.equal(fresh.size, 4)
  })
})
