/// The archive magics compiled into the DB as rules (src/engine/matcher/embedded-rules.ts): the leaf
/// match finds them in its anchor scan, and what it finds answers the question hasEmbeddedMagic's own
/// passes answered: the same on bodies with each magic past their start, in random bytes and in text,
/// never no where those passes say yes. Through the scan service, a small body with an archive past its
/// start still goes to the pool's walk.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { loadDb } from '../../src/engine/signatures/cache.js'
import { Matcher } from '../../src/engine/matcher/matcher.js'
import { embeddedMagicFound, embeddedMagics, hasEmbeddedMagic } from '../../src/engine/embedded.js'
import { ScanService } from '../../src/scan/service.js'
import { Metrics } from '../../src/metrics.js'
import { bundledSignaturesDir } from '../../config/schema.js'
import { zipOf } from '../helpers/zipwriter.js'

const text = (n: number): Buffer => Buffer.from('The quick brown fox jumps over the lazy dog; custard and mustard.\n'.repeat(Math.ceil(n / 66)).slice(0, n), 'latin1')

describe('archive magics found by the leaf match', function () {
  this.timeout(60_000)
  let matcher: Matcher
  before(async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'scanwall-embedded-'))
    try {
      matcher = new Matcher((await loadDb(bundledSignaturesDir, { lenient: false, cacheDir })).db)
    } finally {
      rmSync(cacheDir, { recursive: true, force: true })
    }
  })

  const inMatch = (bytes: Uint8Array): boolean => embeddedMagicFound(matcher.matchAll(bytes, 'unknown', [], { embedded: true }).embedded, bytes)

  it('the DB carries one rule per magic, and no layer type asks for them but the leaf match', () => {
    assert.deepEqual(matcher.db.params.embeddedRules?.[1], embeddedMagics.length)
    assert.equal(matcher.findsEmbedded('unknown'), true)
    assert.equal(matcher.findsEmbedded('html'), false)
    const zipAt100 = Buffer.concat([randomBytes(100), embeddedMagics[0]!.bytes, randomBytes(100)])
    assert.equal(matcher.matchAll(zipAt100, 'unknown').embedded, 0, 'not asked: not looked for')
    assert.deepEqual(matcher.matchAll(zipAt100, 'unknown', [], { embedded: true }).names, [], 'never reported as a name')
  })

  it('agrees with hasEmbeddedMagic on 4,000 bodies: each magic past the start, random bytes, text', () => {
    let withMagic = 0
    for (let i = 0; i < 4000; i++) {
      const size = 64 + Math.floor(Math.random() * 65_472)
      const body = i % 3 === 0 ? text(size) : randomBytes(size)
      const magic = embeddedMagics[i % (embeddedMagics.length + 1)]
      if (magic !== undefined && i % 2 === 0) {
        const at = magic.at + 1 + Math.floor(Math.random() * (size - magic.at - 1 - magic.bytes.length))
        if (at - magic.at > 0 && at + magic.bytes.length <= size) { Buffer.from(magic.bytes).copy(body, at); withMagic++ }
      }
      assert.equal(inMatch(body), hasEmbeddedMagic(body), `body ${i} (${size} bytes, ${magic?.type ?? 'none'})`)
    }
    assert.ok(withMagic > 1000)
  })

  it('tar\'s ustar counts only in a body with a NUL byte, as before', () => {
    const body = text(5000)
    body.write('ustar', 1000, 'latin1')
    assert.equal(inMatch(body), false)
    body[3000] = 0
    assert.equal(inMatch(body), true)
    assert.equal(hasEmbeddedMagic(body), true)
  })

  it('a magic at offset 0 may send the body to the walk, never the other way', () => {
    for (const magic of embeddedMagics) {
      const body = Buffer.concat([Buffer.alloc(magic.at), magic.bytes, Buffer.alloc(4000, 0x41)])
      if (hasEmbeddedMagic(body)) assert.equal(inMatch(body), true, magic.type)
    }
  })
})

describe('ScanService: a small body with an archive past its start goes to the walk', function () {
  this.timeout(30_000)
  const spoolDir = mkdtempSync(join(tmpdir(), 'scanwall-spool-'))
  after(() => { rmSync(spoolDir, { recursive: true, force: true }) })
  let service: ScanService
  before(async () => {
    service = await ScanService.start({ workers: 1, maxQueue: 8, workerMaxOldGenMb: 128, memoryLimit: 1 << 20, spoolDir, timeoutMs: 10_000, signaturesDir: bundledSignaturesDir, inlineMaxBytes: 64 * 1024 }, new Metrics(), pino({ level: 'silent' }))
  })
  after(async () => { await service.close() })

  for (const [what, bytes, inline] of [
    ['random bytes', randomBytes(30_000), 1],
    ['a zip after 3,000 random bytes', Buffer.concat([randomBytes(3000), zipOf([{ name: 'a.bin', method: 0, data: randomBytes(2000), size: 2000 }])]), 0],
  ] as const) {
    it(`${what}: ${inline === 1 ? 'matched inline' : 'walked by the pool'}`, async () => {
      const sink = service.openSink(bytes.length)
      await sink.write(bytes)
      const before = service.inlineScans
      const outcome = await service.scan(await sink.finish(), { service: 'test' }, new AbortController().signal)
      assert.equal(outcome.verdict.status, 'clean')
      assert.equal(service.inlineScans - before, inline)
    })
  }
})
