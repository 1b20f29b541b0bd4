/// A mail filter's action as the message's event (migration 4, events.filter_action): a decision
/// database file written by the previous schema (migrations 1-3, an event in it) is opened by the
/// current store, migrated once, its old event read back with no filter action; then a spam
/// rejection, a quarantined spam, a tagged suspect and a content archive of clean mail are recorded
/// as block, quarantine, detect and detect events naming the filter's action, and a rejection
/// counts as a block in the hourly aggregates. Ham delivered stays no event.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { pino } from 'pino'
import { SqliteStore } from '../../../src/records/sqlite-store.js'
import { migrations, migrationsTable } from '../../../src/records/sql.js'
import { DecisionRecorder } from '../../../src/records/writer.js'
import type { FilterRecord, RecordInput } from '../../../src/records/recorder.js'
import { decide, defaultProfile } from '../../../src/policy/decide.js'
import type { Verdict } from '../../../src/engine/verdict.js'

const clean: Verdict = { status: 'clean', findings: [], stats: { bytes: 1, objects: 1, depth: 0, ms: 1 } }
const mail = (sender: string, filter?: FilterRecord, quarantine?: string): RecordInput => ({
  verdict: clean,
  decision: decide(clean, { service: 'milter' }, defaultProfile),
  context: { service: 'milter', method: 'SMTP', client: '192.0.2.9', mail: { sender, recipients: ['bob@example.net'] } },
  bytes: 900,
  ...(filter === undefined ? {} : { filter }),
  ...(quarantine === undefined ? {} : { quarantine: { id: quarantine, sha256: 'cd'.repeat(32) } }),
})

describe('mail filter actions in the decision database', () => {
  let dir = ''
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'scanwall-filter-event-')) })
  afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

  it('migrates a database of the previous schema and records what the filters did', async () => {
    const path = join(dir, 'records.sqlite')
    // The file as the previous release left it: migrations 1-3 and one virus event.
    const old = new Database(path)
    old.exec(migrationsTable)
    for (const m of migrations.filter(m => m.version <= 3)) {
      for (const statement of m.statements) old.exec(statement)
      old.prepare('INSERT INTO schema_migrations (version, applied_ms) VALUES (?, ?)').run(m.version, 1)
    }
    old.prepare(`INSERT INTO events (node, boot, seq, at_ms, action, service, method, client, username, url, verdict, threat, reason, bytes, sha256, quarantine_id, sender, recipients)
      VALUES ('n0', 'b0', 1, ?, 'block', 'avscan', 'RESPMOD', '10.0.0.1', '', 'http://origin.test/x', 'infected', 'Eicar', 'threat', 68, '', '', '', '')`).run(Date.now() - 1000)
    old.close()

    const store = new SqliteStore(path)
    const recorder = new DecisionRecorder(store, { nodeId: 'n1', queueSize: 100, batchEvents: 100, flushMs: 3_600_000, retentionDays: 1, hourlyRetentionDays: 2 }, pino({ level: 'silent' }))
    try {
      recorder.record(mail('spammer@bad.example', { action: 'spam:reject', threat: 'Spam', reason: 'spam score 14.2', stopped: true }))
      recorder.record(mail('held@bad.example', { action: 'spam:quarantine', threat: 'Spam', reason: 'spam score 11', stopped: true }, 'a'.repeat(24)))
      recorder.record(mail('maybe@shop.example', { action: 'spam:tag', threat: 'Spam', reason: 'spam score 6.1', stopped: false }))
      recorder.record(mail('alice@example.org', { action: 'content:archive', threat: 'Content.contracts', reason: 'content rule contracts', stopped: false }, 'b'.repeat(24)))
      recorder.record(mail('ann@partner.example'))
      await recorder.flush()
      const events = await store.events(0, 100)
      assert.equal(events.length, 5)
      const byFilter = new Map(events.map(e => [e.filterAction, e]))
      assert.equal(byFilter.get('')?.threat, 'Eicar', 'the old event reads back, with no filter action')
      assert.deepEqual(['spam:reject', 'spam:quarantine', 'spam:tag', 'content:archive'].map(f => {
        const e = byFilter.get(f)
        return [e?.action, e?.threat, e?.reason, e?.verdict, e?.quarantineId]
      }), [
        ['block', 'Spam', 'spam score 14.2', 'clean', ''],
        ['quarantine', 'Spam', 'spam score 11', 'clean', 'a'.repeat(24)],
        ['detect', 'Spam', 'spam score 6.1', 'clean', ''],
        ['detect', 'Content.contracts', 'content rule contracts', 'clean', 'b'.repeat(24)],
      ])
      const spam = (await store.totals('threat', 0, 10)).find(r => r.key === 'Spam')
      assert.deepEqual([spam?.objects, spam?.blocks], [3, 2], 'rejected and quarantined spam count as blocks')
      const services = await store.totals('service', 0, 10)
      assert.equal(services.find(r => r.key === 'milter')?.objects, 5)
    } finally {
      await recorder.close()
    }
    const check = new Database(path, { readonly: true })
    assert.deepEqual(check.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all(), migrations.map(m => m.version))
    check.close()
  })
})
