/// The decision database survives a SIGKILL under load. A node (the real `scanwall start`) takes
/// sustained raw ICAP traffic, every object EICAR so every transaction is an event, and is killed
/// with SIGKILL mid-stream. Acknowledged means: inside the seq range of a `records committed` log
/// line (the writer logs it after the commit returned). Every acknowledged event must be in the
/// database after the kill, on SQLite (PRAGMA integrity_check ok, and a restarted node writes on)
/// and on a real PostgreSQL that two nodes write at once.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { startScanwallNode, type ScanwallNode } from '../helpers/scanwall-node.js'
import { IcapLoad, type LoadResult } from '../helpers/icap-load.js'
import { buildRequest } from './icap-harness.js'
import { eicar } from '../helpers/eicar.js'
import { startPostgres, type TestPostgres } from '../helpers/postgres.js'
import { migrations as schemaMigrations } from '../../src/records/sql.js'
import { pino } from 'pino'
import { PgStore } from '../../src/records/pg-store.js'
import { DecisionRecorder } from '../../src/records/writer.js'
import type { RecordInput } from '../../src/records/recorder.js'

interface Ack { readonly boot: string, readonly firstSeq: number, readonly lastSeq: number }

/// The commit acknowledgements in a node's log (lines cut off by the kill are skipped).
function acknowledged (logFile: string): Ack[] {
  const acks: Ack[] = []
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"records committed"')) continue
    try {
      const parsed = JSON.parse(line) as Ack
      acks.push({ boot: parsed.boot, firstSeq: parsed.firstSeq, lastSeq: parsed.lastSeq })
    } catch {}
  }
  return acks
}

/// Every (boot, seq) the acknowledgements cover.
function ackedKeys (acks: readonly Ack[]): Set<string> {
  const keys = new Set<string>()
  for (const a of acks) for (let s = a.firstSeq; s <= a.lastSeq; s++) keys.add(`${a.boot}:${s}`)
  return keys
}

const request = (n: number): Buffer => buildRequest({ body: eicar, extraHeaders: [`X-Client-IP: 198.51.100.${n % 200}`, `X-Client-Username: user${n % 7}`] }).whole

async function until (what: string, done: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

function nodeEnv (id: string, stats: Record<string, string>): Record<string, string> {
  return { SCANWALL_NODE_ID: id, SCANWALL_LOG_LEVEL: 'debug', SCANWALL_LOG_TRANSACTIONS: 'none', SCANWALL_SCAN_WORKERS: '1', SCANWALL_SNMP_ENABLED: 'false', SCANWALL_STATS_FLUSH_MS: '50', ...stats }
}

/// Load on the node until `commits` batches are acknowledged, then SIGKILL it mid-traffic.
async function killUnderLoad (node: ScanwallNode, commits: number): Promise<LoadResult> {
  const load = await IcapLoad.start(node.port, 4, request)
  await until(`${commits} acknowledged batches`, () => acknowledged(node.daemon.logFile).length >= commits)
  const before = load.result.answered
  await until('more traffic', () => load.result.answered > before + 50)
  node.daemon.child.kill('SIGKILL')
  const exit = await node.daemon.exited
  assert.equal(exit.signal, 'SIGKILL')
  return load.stop()
}

describe('decision records survive SIGKILL under load', function () {
  this.timeout(240_000)
  let dir: string
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'scanwall-sigkill-')) })
  afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

  it('SQLite: every acknowledged event is there after the kill, integrity_check ok, and a restarted node writes on', async () => {
    const path = join(dir, 'records.sqlite')
    const env = nodeEnv('kill-sqlite', { SCANWALL_STATS_PATH: path })
    const node = await startScanwallNode({ dir, env })
    const load = await killUnderLoad(node, 10)
    assert.ok(load.blocked > 100, `sustained traffic: ${load.blocked} blocks answered`)
    const acks = acknowledged(node.daemon.logFile)
    const expected = ackedKeys(acks)
    {
      const db = new Database(path)
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok')
      const stored = new Set((db.prepare('SELECT boot, seq FROM events').all() as Array<{ boot: string, seq: number }>).map(r => `${r.boot}:${r.seq}`))
      const missing = [...expected].filter(k => !stored.has(k))
      assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${expected.size} acknowledged events missing`)
      assert.ok(stored.size >= expected.size)
      db.close()
    }
    // After the restart the same file takes new events (no second migration, no lock left behind).
    const again = await startScanwallNode({ dir, env })
    const more = await IcapLoad.start(again.port, 1, request)
    await until('events after the restart', () => acknowledged(again.daemon.logFile).length > acks.length)
    more.stop()
    await again.daemon.stop()
    const db = new Database(path, { readonly: true })
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok')
    const boots = db.prepare('SELECT COUNT(DISTINCT boot) AS n FROM events').get() as { n: number }
    assert.equal(boots.n, 2)
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n, schemaMigrations.length)
    db.close()
  })

  describe('PostgreSQL with two nodes writing', () => {
    let postgres: TestPostgres | undefined
    before(async () => { postgres = await startPostgres() })
    after(async () => { await postgres?.stop() })

    it('every acknowledged event of the killed node and of the one that went on is in the shared database', async () => {
      const url = postgres?.url ?? ''
      const a = await startScanwallNode({ dir: mkdtempSync(join(dir, 'a-')), env: nodeEnv('pg-a', { SCANWALL_STATS_URL: url }) })
      const b = await startScanwallNode({ dir: mkdtempSync(join(dir, 'b-')), env: nodeEnv('pg-b', { SCANWALL_STATS_URL: url }) })
      const loadB = await IcapLoad.start(b.port, 2, request)
      const loadA = await killUnderLoad(a, 10)
      assert.ok(loadA.blocked > 100, `sustained traffic on a: ${loadA.blocked}`)
      await until('b still writing', () => acknowledged(b.daemon.logFile).length >= 10)
      loadB.stop()
      // b stops cleanly: its last batch is written (and acknowledged) at shut-down.
      await b.daemon.stop()
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        for (const [node, logFile] of [['pg-a', a.daemon.logFile], ['pg-b', b.daemon.logFile]] as const) {
          const expected = ackedKeys(acknowledged(logFile))
          assert.ok(expected.size > 0, `${node} acknowledged events`)
          const rows = (await client.query<{ boot: string, seq: string }>('SELECT boot, seq FROM events WHERE node = $1', [node])).rows
          const stored = new Set(rows.map(r => `${r.boot}:${r.seq}`))
          const missing = [...expected].filter(k => !stored.has(k))
          assert.deepEqual(missing.slice(0, 10), [], `${node}: ${missing.length} of ${expected.size} acknowledged events missing`)
        }
        const migrations = await client.query<{ n: string }>('SELECT COUNT(*) AS n FROM schema_migrations')
        assert.equal(Number(migrations.rows[0]?.n), schemaMigrations.length, 'two nodes starting on one database migrate it once')
        const hourly = await client.query<{ objects: string }>("SELECT SUM(objects) AS objects FROM hourly WHERE dimension = 'service'")
        assert.ok(Number(hourly.rows[0]?.objects) >= ackedKeys(acknowledged(b.daemon.logFile)).size, 'aggregates of both nodes add up in one row set')
      } finally {
        await client.end()
      }
    })

    it('a database restart fails writes, which are kept and retried; the writer never dies', async () => {
      const since = Date.now()
      const store = await PgStore.open(postgres?.url ?? '')
      const recorder = new DecisionRecorder(store, { nodeId: 'pg-restart', queueSize: 1000, batchEvents: 100, flushMs: 3_600_000, retentionDays: 1, hourlyRetentionDays: 2 }, pino({ level: 'silent' }))
      const blocked = (client: string): RecordInput => ({
        verdict: { status: 'infected', findings: [{ name: 'Eicar-Test-Signature', kind: 'signature', path: ['object'] }], stats: { bytes: 68, objects: 1, depth: 0, ms: 0 } },
        decision: { action: 'block', reason: 'infected', threat: 'Eicar-Test-Signature' },
        context: { service: 'avscan', client },
        bytes: 68,
      })
      try {
        recorder.record(blocked('192.0.2.1'))
        await recorder.flush()
        await postgres?.pause()
        recorder.record(blocked('192.0.2.2'))
        await recorder.flush()
        assert.ok(recorder.counts.failures >= 1, 'the write failed while the server was down')
        await postgres?.resume()
        recorder.record(blocked('192.0.2.3'))
        await recorder.flush()
        await recorder.flush()
        const clients = (await store.events(since, 100_000)).filter(e => e.node === 'pg-restart').map(e => e.client)
        assert.deepEqual(clients, ['192.0.2.1', '192.0.2.2', '192.0.2.3'])
      } finally {
        await recorder.close()
      }
    })
  })
})
