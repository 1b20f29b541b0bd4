/// The node's SQLite decision database on its own thread (src/records/sqlite-thread.ts): a batch
/// written through the thread is in the file when write() resolves (read back in-process, as the
/// CLI does), a file that cannot be opened fails open() with SQLite's reason, and after a thread
/// died the next call starts a new one.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { SqliteStore } from '../../../src/records/sqlite-store.js'
import { SqliteThreadStore } from '../../../src/records/sqlite-thread.js'
import { DecisionRecorder } from '../../../src/records/writer.js'
import type { RecordInput } from '../../../src/records/recorder.js'

const blocked: RecordInput = {
  verdict: { status: 'infected', findings: [{ name: 'Eicar-Test-Signature', kind: 'signature', path: ['object'] }], stats: { bytes: 68, objects: 1, depth: 0, ms: 0 } },
  decision: { action: 'block', reason: 'infected', threat: 'Eicar-Test-Signature' },
  context: { service: 'avscan', method: 'RESPMOD', client: '198.51.100.7', url: 'http://origin.test/eicar.com' },
  bytes: 68,
}

describe('SQLite decision database on its own thread', function () {
  this.timeout(30_000)
  let dir: string
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'scanwall-rec-thread-')) })
  afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

  it('has every committed event in the file when the batch is acknowledged', async () => {
    const path = join(dir, 'r.sqlite')
    const store = await SqliteThreadStore.open(path)
    const recorder = new DecisionRecorder(store, { nodeId: 'n1', queueSize: 10_000, batchEvents: 5000, flushMs: 3_600_000, retentionDays: 1, hourlyRetentionDays: 2 }, pino({ level: 'silent' }))
    for (let i = 0; i < 300; i++) recorder.record(blocked)
    await recorder.flush()
    assert.equal(recorder.counts.committed, 300)
    const reader = new SqliteStore(path, { readonly: true })
    try {
      const events = await reader.events(0, 1000)
      assert.deepEqual(events.map(e => e.seq), Array.from({ length: 300 }, (_, i) => i + 1))
      assert.deepEqual(await reader.totals('threat', 0, 10), [{ key: 'Eicar-Test-Signature', objects: 300, bytes: 300 * 68, infections: 300, blocks: 300 }])
    } finally {
      await reader.close()
    }
    assert.equal((await store.events(0, 1000)).length, 300, 'reads go through the thread too')
    await recorder.close()
  })

  it('fails open() with the reason when the file is not a database', async () => {
    const path = join(dir, 'not-a-db.sqlite')
    writeFileSync(path, 'x'.repeat(4096))
    await assert.rejects(SqliteThreadStore.open(path), /not a database/)
  })

  it('starts a new thread for the next call after one died, and loses nothing committed', async () => {
    const path = join(dir, 'r.sqlite')
    const store = await SqliteThreadStore.open(path)
    const row = { hour: 0, dimension: 'service' as const, key: 'avscan', objects: 1, bytes: 1, infections: 0, blocks: 0 }
    try {
      await store.write([], [row])
      await store.kill()
      await store.write([], [row])
      assert.deepEqual(await store.totals('service', 0, 10), [{ key: 'avscan', objects: 2, bytes: 2, infections: 0, blocks: 0 }])
    } finally {
      await store.close()
    }
  })
})
