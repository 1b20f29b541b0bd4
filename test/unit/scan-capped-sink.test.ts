/// cappedSink (src/scan/capped-sink.ts), the size cap the clamd and milter adapters put in front of
/// a body sink: bytes up to the cap are kept (memory or spool file, every byte), past it the spool
/// file is removed and later bytes dropped while still counted; finishing or discarding twice is harmless.
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BodySink, releaseSource, sourceBytes } from '../../src/scan/body.js'
import { cappedSink } from '../../src/scan/capped-sink.js'

describe('cappedSink', () => {
  let dir = ''
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'scanwall-capped-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('keeps every byte up to the cap, spooled or not', async () => {
    for (const memoryLimit of [1 << 20, 1000]) {
      const body = cappedSink(new BodySink({ memoryLimit, spoolDir: dir }), 10_000)
      const bytes = Buffer.alloc(10_000, 0x61)
      for (let at = 0; at < bytes.length; at += 3000) await body.write(bytes.subarray(at, at + 3000))
      assert.equal(body.over, false)
      const source = await body.finish()
      assert.deepEqual(Buffer.from(await sourceBytes(source)), bytes)
      await releaseSource(source)
      await body.discard()
    }
  })

  it('drops the spool file once past the cap, counts the bytes still coming and judges by size', async () => {
    const body = cappedSink(new BodySink({ memoryLimit: 1000, spoolDir: dir }), 5000)
    await body.write(Buffer.alloc(2000, 0x62))
    assert.equal((await readdir(dir)).length, 1, 'spooled')
    for (let i = 0; i < 3; i++) await body.write(Buffer.alloc(2000, 0x62))
    assert.equal(body.over, true)
    assert.equal(body.write(Buffer.alloc(2000)), undefined, 'nothing more is written')
    assert.deepEqual(body.oversize(), { kind: 'oversize', size: 10_000, kept: undefined })
    await body.discard()
    // The sink's own discard runs once its pending file writes settle.
    let left = await readdir(dir)
    for (let i = 0; i < 100 && left.length > 0; i++) {
      await new Promise(resolve => setTimeout(resolve, 50))
      left = await readdir(dir)
    }
    assert.deepEqual(left, [], 'the spool file is gone')
  })
})
