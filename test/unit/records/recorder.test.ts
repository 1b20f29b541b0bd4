import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { SqliteStore } from '../../../src/records/sqlite-store.js'
import { DecisionRecorder, type WriterOptions } from '../../../src/records/writer.js'
import type { RecordInput } from '../../../src/records/recorder.js'
import type { RecordStore } from '../../../src/records/store.js'
import { decide, defaultProfile } from '../../../src/policy/decide.js'
import type { Verdict } from '../../../src/engine/verdict.js'

const stats = { bytes: 1, objects: 1, depth: 0, ms: 1 }
const clean: Verdict = { status: 'clean', findings: [], stats }
const infected: Verdict = { status: 'infected', findings: [{ name: 'Eicar-Test-Signature', kind: 'signature', path: ['object'] }], stats }
function input (verdict: Verdict, client: string, user?: string, quarantine?: string): RecordInput {
  return {
    verdict,
    decision: decide(verdict, { service: 'avscan' }, defaultProfile),
    context: { service: 'avscan', method: 'RESPMOD', client, ...(user === undefined ? {} : { user }), url: `http://origin.test/${client}` },
    bytes: 100,
    ...(quarantine === undefined ? {} : { quarantine: { id: quarantine, sha256: 'ab'.repeat(32) } }),
  }
}
const options: WriterOptions = { nodeId: 'n1', queueSize: 1000, batchEvents: 100, flushMs: 3_600_000, retentionDays: 1, hourlyRetentionDays: 2 }
const silent = pino({ level: 'silent' })

describe('decision recorder on SQLite', () => {
  let dir: string
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'scanwall-rec-')) })
  afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

  it('records detections, blocks and quarantines as events and every object in the hourly aggregates', async () => {
    const store = new SqliteStore(join(dir, 'r.sqlite'))
    const recorder = new DecisionRecorder(store, options, silent)
    recorder.record(input(clean, '10.0.0.1', 'alice'))
    recorder.record(input(clean, '10.0.0.2'))
    recorder.record(input(infected, '10.0.0.1', 'alice'))
    recorder.record(input(infected, '10.0.0.3', 'bob', 'q1'))
    await recorder.flush()
    const events = await store.events(0, 100)
    assert.deepEqual(events.map(e => [e.action, e.client, e.user, e.threat, e.quarantineId, e.seq]), [
      ['block', '10.0.0.1', 'alice', 'Eicar-Test-Signature', '', 1],
      ['quarantine', '10.0.0.3', 'bob', 'Eicar-Test-Signature', 'q1', 2],
    ])
    assert.deepEqual(await store.totals('service', 0, 10), [{ key: 'avscan', objects: 4, bytes: 400, infections: 2, blocks: 2 }])
    assert.deepEqual((await store.totals('client', 0, 10)).map(r => [r.key, r.objects, r.blocks]), [['10.0.0.1', 2, 1], ['10.0.0.2', 1, 0], ['10.0.0.3', 1, 1]])
    assert.deepEqual((await store.totals('user', 0, 10)).map(r => [r.key, r.objects]), [['alice', 2], ['bob', 1]])
    assert.deepEqual((await store.totals('threat', 0, 10)).map(r => [r.key, r.infections]), [['Eicar-Test-Signature', 2]])
    // A second batch adds to the same hour's rows.
    recorder.record(input(clean, '10.0.0.2'))
    await recorder.flush()
    assert.equal((await store.totals('service', 0, 10))[0]?.objects, 5)
    assert.equal(store.integrity(), 'ok')
    await recorder.close()
  })

  it('counts mail usage per sender and per recipient, and names the envelope in the event', async () => {
    const store = new SqliteStore(join(dir, 'r.sqlite'))
    const recorder = new DecisionRecorder(store, options, silent)
    const mail = (verdict: Verdict, sender: string, recipients: string[]): RecordInput => ({
      verdict, decision: decide(verdict, { service: 'milter' }, defaultProfile), context: { service: 'milter', method: 'SMTP', client: '192.0.2.1', mail: { sender, recipients, queueId: 'Q1' } }, bytes: 1000,
    })
    recorder.record(mail(clean, 'Alice@example.org', ['bob@example.net', 'carol@example.net']))
    recorder.record(mail(infected, 'alice@example.org', ['bob@example.net']))
    recorder.record(mail(clean, '', ['postmaster@example.org']))
    await recorder.flush()
    assert.deepEqual((await store.totals('sender', 0, 10)).map(r => [r.key, r.objects, r.bytes, r.infections]), [['alice@example.org', 2, 2000, 1], ['<>', 1, 1000, 0]])
    assert.deepEqual((await store.totals('recipient', 0, 10)).map(r => [r.key, r.objects, r.infections]), [['bob@example.net', 2, 1], ['carol@example.net', 1, 0], ['postmaster@example.org', 1, 0]])
    const events = await store.events(0, 10)
    assert.deepEqual(events.map(e => [e.service, e.sender, e.recipients]), [['milter', 'alice@example.org', 'bob@example.net']])
    await recorder.close()
  })

  it('drops and counts events past a full queue without waiting', async () => {
    const store = new SqliteStore(join(dir, 'r.sqlite'))
    const recorder = new DecisionRecorder(store, { ...options, queueSize: 2 }, silent)
    for (let i = 0; i < 5; i++) recorder.record(input(infected, `10.0.0.${i}`))
    assert.equal(recorder.counts.dropped, 3)
    await recorder.flush()
    assert.equal((await store.events(0, 100)).length, 2)
    assert.equal((await store.totals('service', 0, 10))[0]?.objects, 5, 'dropped events are still counted in the aggregates')
    await recorder.close()
  })

  it('retries a failed batch once the database is back, without doubling it', async () => {
    const real = new SqliteStore(join(dir, 'r.sqlite'))
    let failNext = true
    const flaky: RecordStore = {
      name: 'flaky',
      write: async (e, h) => { if (failNext) { failNext = false; throw new Error('disk full') } await real.write(e, h) },
      prune: async (a, b) => await real.prune(a, b),
      events: async (a, b) => await real.events(a, b),
      totals: async (d, s, l) => await real.totals(d, s, l),
      close: async () => await real.close(),
    }
    const recorder = new DecisionRecorder(flaky, options, silent)
    recorder.record(input(infected, '10.0.0.1'))
    await recorder.flush()
    assert.equal(recorder.counts.failures, 1)
    assert.equal((await real.events(0, 10)).length, 0)
    recorder.record(input(infected, '10.0.0.2'))
    await recorder.flush()
    await recorder.flush()
    assert.deepEqual((await real.events(0, 10)).map(e => e.client), ['10.0.0.1', '10.0.0.2'])
    assert.equal((await real.totals('service', 0, 10))[0]?.objects, 2)
    await recorder.close()
  })

  it('applies retention to events and aggregates, and migrates a database once', async () => {
    const path = join(dir, 'r.sqlite')
    const store = new SqliteStore(path)
    const recorder = new DecisionRecorder(store, options, silent)
    recorder.record(input(infected, '10.0.0.1'))
    await recorder.flush()
    await recorder.prune(Date.now() + 3 * 86_400_000)
    assert.equal((await store.events(0, 10)).length, 0)
    assert.equal((await store.totals('service', 0, 10)).length, 0)
    await recorder.close()
    const again = new SqliteStore(path)
    assert.equal(again.integrity(), 'ok')
    await again.close()
  })
})
