/// Cluster health that can fail: the `pool` test scans a few bytes through a live worker of a real
/// ScanService and fails when none answers in time; the monitor keeps each
/// test's last result for SNMP and reports the verdict only when it changes, and nothing after stop.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import { ScanService } from '../../../src/scan/service.js'
import { Metrics } from '../../../src/metrics.js'
import { bundledSignaturesDir } from '../../../config/schema.js'
import { HealthMonitor } from '../../../src/cluster/health/monitor.js'
import { runHealthTest, type HealthContext } from '../../../src/cluster/health/tests.js'
import type { HealthTestConfig } from '../../../src/cluster/config.js'

const silent = pino({ level: 'silent' })

async function waitFor (what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

describe('cluster health: the pool test through a live worker', function () {
  this.timeout(60_000)
  const spoolDir = mkdtempSync(join(tmpdir(), 'scanwall-health-'))
  after(() => { rmSync(spoolDir, { recursive: true, force: true }) })
  const metrics = new Metrics()
  let scan: ScanService
  // A large inline limit: the probe must still go to a worker, not the leaf scanner on this thread.
  before(async () => {
    scan = await ScanService.start({ workers: 1, maxQueue: 8, workerMaxOldGenMb: 128, memoryLimit: 64 << 20, spoolDir, timeoutMs: 30_000, signaturesDir: bundledSignaturesDir, inlineMaxBytes: 1 << 20 }, metrics, silent)
  })
  after(async () => { await scan.close() })

  const pool: HealthTestConfig = { name: 'pool', kind: 'pool', intervalMs: 1000, timeoutMs: 5000 }
  const ctx = (): HealthContext => ({ icap: { host: '127.0.0.1', port: 1, service: 'avscan' }, poolProbe: async ms => await scan.probe(ms), spoolDir, signaturesDir: bundledSignaturesDir })

  it('passes when a worker scans the probe, without counting it as traffic or scanning it inline', async () => {
    const result = await runHealthTest(pool, ctx())
    assert.equal(result.ok, true, result.detail)
    assert.match(result.detail, /^worker answered clean in \d+ ms$/)
    assert.equal(scan.inlineScans, 0)
    assert.equal(metrics.objectsScanned, 0)
  })

  it('fails when no worker answers within the timeout (the only worker is busy)', async () => {
    // 48 MiB for the one worker: the probe queues behind it and its 1 ms deadline passes first.
    const sink = scan.openSink()
    await sink.write(randomBytes(48 << 20))
    const busy = scan.scan(await sink.finish(), { service: 'test' }, new AbortController().signal)
    // The verdict cache hashes the body before the pool sees it: probe only once the worker has it.
    await waitFor('the big scan in the pool', () => scan.inFlight > 0)
    const result = await runHealthTest({ ...pool, timeoutMs: 1 }, ctx())
    assert.equal(result.ok, false)
    assert.match(result.detail, /no worker answered within 1 ms|timeout/)
    await busy
    assert.equal((await runHealthTest(pool, ctx())).ok, true, 'the pool did not recover')
  })
})

describe('cluster health monitor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-monitor-'))
  const marker = join(dir, 'fail')
  const ctx: HealthContext = { icap: { host: '127.0.0.1', port: 1, service: 'avscan' }, poolProbe: async () => ({ ok: true, detail: 'answered' }), spoolDir: dir, signaturesDir: dir }
  const tests: HealthTestConfig[] = [
    { name: 'marker', kind: 'exec', command: ['sh', '-c', `! test -e ${marker}`], intervalMs: 50, timeoutMs: 2000 },
    { name: 'always', kind: 'exec', command: ['true'], intervalMs: 50, timeoutMs: 2000 },
  ]

  it('keeps each test\'s last result and reports the verdict only when it changes', async () => {
    const reports: string[] = []
    const monitor = new HealthMonitor(tests, undefined, ctx, silent, (healthy, failing) => reports.push(`${healthy} ${failing.join(',')}`))
    assert.deepEqual(monitor.results().map(r => [r.name, r.last]), [['marker', undefined], ['always', undefined]])
    monitor.start()
    try {
      await waitFor('first results', () => monitor.results().every(r => r.last !== undefined))
      await new Promise(resolve => setTimeout(resolve, 200))
      assert.deepEqual(reports, ['true '])
      const { writeFileSync } = await import('node:fs')
      writeFileSync(marker, '')
      await waitFor('the marker to fail', () => reports.length === 2)
      assert.equal(reports[1], 'false marker')
      const failed = monitor.results().find(r => r.name === 'marker')?.last
      assert.equal(failed?.ok, false)
      assert.equal(failed?.detail, 'exit 1')
      assert.ok((failed?.at ?? 0) > Date.now() - 5000)
      rmSync(marker)
      await waitFor('the marker to pass', () => reports.length === 3)
      assert.equal(reports[2], 'true ')
    } finally {
      monitor.stop()
    }
  })

  it('reports nothing after stop (its timers end with it)', async () => {
    const reports: boolean[] = []
    const slow: HealthTestConfig = { name: 'slow', kind: 'exec', command: ['sleep', '0.2'], intervalMs: 20, timeoutMs: 2000 }
    const monitor = new HealthMonitor([slow], undefined, ctx, silent, healthy => reports.push(healthy))
    monitor.start()
    monitor.stop()
    await new Promise(resolve => setTimeout(resolve, 400))
    assert.deepEqual(reports, [])
    assert.equal(monitor.results()[0]?.last, undefined)
  })
})
