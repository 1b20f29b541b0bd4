/// The embedded decision database: better-sqlite3 (synchronous: one batch is one short transaction,
/// every 250 ms at most; the node runs it on a thread of its own, sqlite-thread.ts, the CLI
/// in-process) in WAL mode with prepared statements. WAL
/// with synchronous=NORMAL keeps every committed transaction when the process is killed (the log is
/// in the kernel's page cache); only a power loss may take the last ones.
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { DecisionEvent } from './event.js'
import type { Dimension, HourlyRow } from './hourly.js'
import type { RecordStore } from './store.js'
import { eventColumns, eventOfRow, eventValues, hourlyColumns, hourlyUpsertTail, migrations, migrationsTable, pruneEvents, pruneHourly, selectEvents, selectTotals, totalOf, type TotalRow } from './sql.js'

const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ')
/// Events per INSERT statement: one statement of many rows costs far less per row than one per row
/// (each run() crosses into C++ and binds afresh); 64 × 19 values stays under SQLite's 32,766.
const rowsPerInsert = 64
const insertEvents = (rows: number): string =>
  `INSERT OR IGNORE INTO events (${eventColumns.join(', ')}) VALUES ${Array.from({ length: rows }, () => `(${marks(eventColumns.length)})`).join(', ')}`

export class SqliteStore implements RecordStore {
  readonly name: string
  readonly #db: Database.Database
  readonly #insertEvent: Database.Statement
  readonly #insertEvents: Database.Statement
  readonly #upsertHourly: Database.Statement
  readonly #writeBatch: (events: readonly DecisionEvent[], hourly: readonly HourlyRow[]) => void

  /// Opens (creating the file and its directory) and migrates. `readonly`: the CLI's view.
  constructor (path: string, { readonly = false }: { readonly readonly?: boolean } = {}) {
    this.name = `sqlite:${path}`
    if (!readonly) mkdirSync(dirname(path), { recursive: true, mode: 0o750 })
    this.#db = new Database(path, { readonly, fileMustExist: readonly })
    // Another process (the CLI, a second node on one host) may hold the lock for a moment.
    this.#db.pragma('busy_timeout = 5000')
    if (!readonly) {
      this.#db.pragma('journal_mode = WAL')
      this.#db.pragma('synchronous = NORMAL')
      this.#migrate()
    }
    this.#insertEvent = this.#db.prepare(insertEvents(1))
    this.#insertEvents = this.#db.prepare(insertEvents(rowsPerInsert))
    this.#upsertHourly = this.#db.prepare(`INSERT INTO hourly (${hourlyColumns.join(', ')}) VALUES (${marks(hourlyColumns.length)}) ${hourlyUpsertTail}`)
    this.#writeBatch = this.#db.transaction((events: readonly DecisionEvent[], hourly: readonly HourlyRow[]) => {
      let at = 0
      for (; at + rowsPerInsert <= events.length; at += rowsPerInsert) this.#insertEvents.run(events.slice(at, at + rowsPerInsert).flatMap(eventValues))
      for (; at < events.length; at++) this.#insertEvent.run(eventValues(events[at] as DecisionEvent))
      for (const h of hourly) this.#upsertHourly.run(h.hour, h.dimension, h.key, h.objects, h.bytes, h.infections, h.blocks)
    })
  }

  #migrate (): void {
    this.#db.exec(migrationsTable)
    const applied = new Set(this.#db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[])
    for (const m of migrations) {
      if (applied.has(m.version)) continue
      this.#db.transaction(() => {
        for (const statement of m.statements) this.#db.exec(statement)
        this.#db.prepare('INSERT INTO schema_migrations (version, applied_ms) VALUES (?, ?)').run(m.version, Date.now())
      }).immediate()
    }
  }

  async write (events: readonly DecisionEvent[], hourly: readonly HourlyRow[]): Promise<void> {
    this.#writeBatch(events, hourly)
  }

  async prune (eventsBeforeMs: number, hourlyBeforeSec: number): Promise<{ events: number, hourly: number }> {
    return this.#db.transaction(() => ({
      events: this.#db.prepare(pruneEvents).run(eventsBeforeMs).changes,
      hourly: this.#db.prepare(pruneHourly).run(hourlyBeforeSec).changes,
    }))()
  }

  async events (sinceMs: number, limit: number): Promise<DecisionEvent[]> {
    return (this.#db.prepare(selectEvents).all(sinceMs, limit) as Array<Record<string, unknown>>).map(eventOfRow)
  }

  async totals (dimension: Dimension, sinceSec: number, limit: number): Promise<TotalRow[]> {
    return (this.#db.prepare(selectTotals).all(dimension, sinceSec, limit) as Array<Record<string, unknown>>).map(totalOf)
  }

  /// PRAGMA integrity_check's answer ('ok' when the file is sound).
  integrity (): string {
    return String(this.#db.pragma('integrity_check', { simple: true }))
  }

  async close (): Promise<void> { this.#db.close() }
}
