/// The shared decision database: PostgreSQL through `pg`, for a cluster whose nodes write one
/// database. One connection per node (the writer is one writer; a pool of one re-connects); a batch is one transaction of two
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
  node: 'text', boot: 'text', seq: 'bigint', at_ms: 'bigint', action: 'text', service: 'text', method: 'text', client: 'text', username: 'text', url: 'text', verdict: 'text', threat: 'text', reason: 'text', bytes: 'bigint', sha256: 'text', quarantine_id: 'text', sender: 'text', recipients: 'text', filter_action: 'text',
}
const hourlyTypes: Record<typeof hourlyColumns[number], string> = { hour: 'bigint', dimension: 'text', key: 'text', objects: 'bigint', bytes: 'bigint', infections: 'bigint', blocks: 'bigint' }

const unnest = (types: readonly string[]): string => `SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`
const insertEvents = `INSERT INTO events (${eventColumns.join(', ')}) ${unnest(eventColumns.map(c => eventTypes[c]))} ON CONFLICT DO NOTHING`
const upsertHourly = `INSERT INTO hourly (${hourlyColumns.join(', ')}) ${unnest(hourlyColumns.map(c => hourlyTypes[c]))} ${hourlyUpsertTail}`
/// Any constant both sides agree on: the key of the migration lock.
const migrationLock = 0x5343_4e57

/// Rows as one array per column.
export function columns<T> (rows: readonly T[], width: number, values: (row: T) => ReadonlyArray<string | number>): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = Array.from({ length: width }, () => [])
  for (const row of rows) values(row).forEach((v, i) => out[i]?.push(v))
  return out
}

export class PgStore implements RecordStore {
  readonly name = 'postgresql'
  /// One connection (the writer is one writer), re-made by the pool after the server restarts or
  /// the network drops it: a database outage fails writes (retried), it never ends the node.
  readonly #pool: pg.Pool

  private constructor (pool: pg.Pool) { this.#pool = pool }

  static async open (url: string, { migrate = true }: { readonly migrate?: boolean } = {}): Promise<PgStore> {
    const pool = new pg.Pool({ connectionString: url, max: 1 })
    // An idle connection that breaks is reported here; the next query makes a new one.
    pool.on('error', () => {})
    const store = new PgStore(pool)
    try {
      if (migrate) await store.#withClient(async c => { await migrateOn(c) })
      else await pool.query('SELECT 1')
    } catch (err) {
      await pool.end()
      throw err
    }
    return store
  }

  async #withClient<T> (body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect()
    try {
      const result = await body(client)
      client.release()
      return result
    } catch (err) {
      // A connection in an unknown state is closed, not reused.
      client.release(err instanceof Error ? err : new Error(String(err)))
      throw err
    }
  }

  async write (events: readonly DecisionEvent[], hourly: readonly HourlyRow[]): Promise<void> {
    // Rows in one order on every node, so two nodes adding to the same hours cannot deadlock.
    const sorted = [...hourly].sort((a, b) => a.hour - b.hour || a.dimension.localeCompare(b.dimension) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    await this.#withClient(async c => {
      await transaction(c, async () => {
        if (events.length > 0) await c.query(insertEvents, columns(events, eventColumns.length, eventValues))
        if (sorted.length > 0) await c.query(upsertHourly, columns(sorted, hourlyColumns.length, h => [h.hour, h.dimension, h.key, h.objects, h.bytes, h.infections, h.blocks]))
      })
    })
  }

  async prune (eventsBeforeMs: number, hourlyBeforeSec: number): Promise<{ events: number, hourly: number }> {
    const events = await this.#pool.query(numbered(pruneEvents), [eventsBeforeMs])
    const hourly = await this.#pool.query(numbered(pruneHourly), [hourlyBeforeSec])
    return { events: events.rowCount ?? 0, hourly: hourly.rowCount ?? 0 }
  }

  async events (sinceMs: number, limit: number): Promise<DecisionEvent[]> {
    return (await this.#pool.query(numbered(selectEvents), [sinceMs, limit])).rows.map(eventOfRow)
  }

  async totals (dimension: Dimension, sinceSec: number, limit: number): Promise<TotalRow[]> {
    return (await this.#pool.query(numbered(selectTotals), [dimension, sinceSec, limit])).rows.map(totalOf)
  }

  async close (): Promise<void> { await this.#pool.end() }
}

async function transaction (c: pg.PoolClient, body: () => Promise<void>): Promise<void> {
  await c.query('BEGIN')
  try {
    await body()
    await c.query('COMMIT')
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {})
    throw err
  }
}

/// Applies the migrations not yet applied, under an advisory lock held by this session.
async function migrateOn (c: pg.PoolClient): Promise<void> {
  await c.query('SELECT pg_advisory_lock($1)', [migrationLock])
  try {
    await c.query(migrationsTable)
    const applied = new Set((await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(r => Number(r.version)))
    for (const m of migrations) {
      if (applied.has(m.version)) continue
      await transaction(c, async () => {
        for (const statement of m.statements) await c.query(statement)
        await c.query('INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, $2)', [m.version, Date.now()])
      })
    }
  } finally {
    await c.query('SELECT pg_advisory_unlock($1)', [migrationLock])
  }
}
