import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BodySink, releaseSource, sourceBytes } from '../../src/scan/body.js'

/// A writer whose chunks are views of one reused read buffer (the ICAP server's, icap-server-lite's
/// reused-reads.ts): with borrowedChunks the sink copies what it queues for the spool file, so the
/// body is intact although the caller overwrites the buffer right after each write.
describe('BodySink: borrowed chunks', function () {
  this.timeout(30_000)
  const spoolDir = mkdtempSync(join(tmpdir(), 'scanwall-borrowed-'))
  after(() => { rmSync(spoolDir, { recursive: true, force: true }) })

  async function through (bytes: Buffer, borrowedChunks: boolean): Promise<Buffer> {
    const sink = new BodySink({ memoryLimit: 64 << 10, spoolDir, borrowedChunks })
    const reused = Buffer.alloc(16 << 10)
    const pending: Array<Promise<void>> = []
    for (let at = 0; at < bytes.length; at += reused.length) {
      const n = bytes.copy(reused, 0, at, at + reused.length)
      const written = sink.write(reused.subarray(0, n))
      if (written !== undefined) pending.push(written)
      reused.fill(0xee) // the next read lands in the same buffer before the disk has this one
    }
    await Promise.all(pending)
    const body = await sink.finish()
    try {
      assert.equal(body.kind, 'file', 'past the memory limit the body is spooled')
      return Buffer.from(await sourceBytes(body))
    } finally {
      await releaseSource(body)
    }
  }

  it('spools every byte of a body written through one reused buffer', async () => {
    const bytes = randomBytes(300_000)
    assert.ok((await through(bytes, true)).equals(bytes))
  })

  it('without it the sink keeps the caller\'s chunks, as clamd and milter\'s fresh reads allow', async () => {
    const bytes = randomBytes(300_000)
    // The reused buffer's later contents reach the file: the copy above is what keeps a body intact.
    assert.ok(!(await through(bytes, false)).equals(bytes))
  })
})
