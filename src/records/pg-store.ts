/// The shared decision database: PostgreSQL through `pg`, for a cluster whose nodes write one
/// database. One connection per node (the writer is one writer); a batch is one transaction of two
/// statements whose rows travel as arrays (unnest), so a batch of thousands of events is one round
/// trip. Migrations run under an advisory lock: nodes starting together apply each one once.
import pg from 'pg'
import type { DecisionEvent } from './event.js'
import type { Dimension, HourlyRow } from './hourly.js'
import type { RecordStore } from './store.js'
import { eventColumns, eventOfRow, eventValues, hourlyColumns, hourlyUpsertTail, migrations, migrationsTable, pruneEvents, pruneHourly, selectEvents, selectTotals, totalOf, type TotalRow } from './sql.js'

/// `?` placeholders as PostgreSQL's $1, $2 …
const numbered = (sql: string): string => { let n = 0; return sql.replace(/\?/g, () => `$${++n}`) }

const eventTypes: Record<typeof eventColumns[number], string> = {
  node: 'text', boot: 'text', seq: 'bigint', at_ms: 'bigint', action: 'text', service: 'text', method: 'text', client: 'text', username: 'text', url: 'text', verdict: 'text', threat: 'text', reason: 'text', bytes: 'bigint', sha256: 'text', quarantine_id: 'text',
}
const hourlyTypes: Record<typeof hourlyColumns[number], string> = { hour: 'bigint', dimension: 'text', key: 'text', objects: 'bigint', bytes: 'bigint', infections: 'bigint', blocks: 'bigint' }

const unnest = (types: readonly string[]): string => `SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`
const insertEvents = `INSERT INTO events (${eventColumns.join(', ')}) ${unnest(eventColumns.map(c => eventTypes[c]))} ON CONFLICT DO NOTHING`
const upsertHourly = `INSERT INTO hourly (${hourlyColumns.join(', ')}) ${unnest(hourlyColumns.map(c => hourlyTypes[c]))} ${hourlyUpsertTail}`
/// Any constant both sides agree on: the key of the migration lock.
const migrationLock = 0x5343_4e57

/// Rows as one array per column.
function columns<T> (rows: readonly T[], width: number, values: (row: T) => ReadonlyArray<string | number>): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = Array.from({ length: width }, () => [])
  for (const row of rows) values(row).forEach((v, i) => out[i]?.push(v))
  return out
}

export class PgStore implements RecordStore {
  readonly name = 'postgresql'
  readonly #client: pg.Client

  private constructor (client: pg.Client) { this.#client = client }

  static async open (url: string, { migrate = true }: { readonly migrate?: boolean } = {}): Promise<PgStore> {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    const store = new PgStore(client)
    try {
      if (migrate) await store.#migrate()
    } catch (err) {
      await client.end()
      throw err
    }
    return store
  }

  async #migrate (): Promise<void> {
    const c = this.#client
    await c.query('SELECT pg_advisory_lock($1)', [migrationLock])
    try {
      await c.query(migrationsTable)
      const applied = new Set((await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(r => Number(r.version)))
      for (const m of migrations) {
        if (applied.has(m.version)) continue
        await this.#transaction(async () => {
          for (const statement of m.statements) await c.query(statement)
          await c.query('INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, $2)', [m.version, Date.now()])
        })
      }
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [migrationLock])
    }
  }

  async #transaction (body: () => Promise<void>): Promise<void> {
    await this.#client.query('BEGIN')
    try {
      await body()
      await this.#client.query('COMMIT')
    } catch (err) {
      await this.#client.query('ROLLBACK').catch(() => {})
      throw err
    }
  }

  async write (events: readonly DecisionEvent[], hourly: readonly HourlyRow[]): Promise<void> {
    // Rows in one order on every node, so two nodes adding to the same hours cannot deadlock.
    const sorted = [...hourly].sort((a, b) => a.hour - b.hour || a.dimension.localeCompare(b.dimension) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    await this.#transaction(async () => {
      if (events.length > 0) await this.#client.query(insertEvents, columns(events, eventColumns.length, eventValues))
      if (sorted.length > 0) await this.#client.query(upsertHourly, columns(sorted, hourlyColumns.length, h => [h.hour, h.dimension, h.key, h.objects, h.bytes, h.infections, h.blocks]))
    })
  }

  async prune (eventsBeforeMs: number, hourlyBeforeSec: number): Promise<{ events: number, hourly: number }> {
    const events = await this.#client.query(numbered(pruneEvents), [eventsBeforeMs])
    const hourly = await this.#client.query(numbered(pruneHourly), [hourlyBeforeSec])
    return { events: events.rowCount ?? 0, hourly: hourly.rowCount ?? 0 }
  }

  async events (sinceMs: number, limit: number): Promise<DecisionEvent[]> {
    return (await this.#client.query(numbered(selectEvents), [sinceMs, limit])).rows.map(eventOfRow)
  }

  async totals (dimension: Dimension, sinceSec: number, limit: number): Promise<TotalRow[]> {
    return (await this.#client.query(numbered(selectTotals), [dimension, sinceSec, limit])).rows.map(totalOf)
  }

  async close (): Promise<void> { await this.#client.end() }
}
