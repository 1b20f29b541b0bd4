/// The decision database's schema and queries, one text for SQLite and PostgreSQL: migrations are
/// numbered and applied in order, each once (table schema_migrations), by whichever store opens the
/// database first. Written in the SQL both accept (BIGINT, TEXT, composite primary keys,
/// INSERT … ON CONFLICT); placeholders are `?` and the PostgreSQL store numbers them.
import type { DecisionEvent, EventAction } from './event.js'
import type { Dimension } from './hourly.js'

export interface Migration { readonly version: number, readonly statements: readonly string[] }

export const migrationsTable = 'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ms BIGINT NOT NULL)'

export const migrations: readonly Migration[] = [
  {
    version: 1,
    statements: [
      `CREATE TABLE events (node TEXT NOT NULL, boot TEXT NOT NULL, seq BIGINT NOT NULL, at_ms BIGINT NOT NULL,
        action TEXT NOT NULL, service TEXT NOT NULL, method TEXT NOT NULL, client TEXT NOT NULL, username TEXT NOT NULL,
        url TEXT NOT NULL, verdict TEXT NOT NULL, threat TEXT NOT NULL, reason TEXT NOT NULL, bytes BIGINT NOT NULL,
        sha256 TEXT NOT NULL, quarantine_id TEXT NOT NULL, PRIMARY KEY (node, boot, seq))`,
      'CREATE INDEX events_at ON events (at_ms)',
      `CREATE TABLE hourly (hour BIGINT NOT NULL, dimension TEXT NOT NULL, key TEXT NOT NULL, objects BIGINT NOT NULL,
        bytes BIGINT NOT NULL, infections BIGINT NOT NULL, blocks BIGINT NOT NULL, PRIMARY KEY (hour, dimension, key))`,
    ],
  },
  {
    // Mail (the milter listener): an event names the envelope; usage per sender and recipient is
    // read per dimension over a time range, which the primary key (hour first) does not serve.
    version: 2,
    statements: [
      'ALTER TABLE events ADD COLUMN sender TEXT NOT NULL DEFAULT \'\'',
      'ALTER TABLE events ADD COLUMN recipients TEXT NOT NULL DEFAULT \'\'',
      'CREATE INDEX hourly_dimension_hour ON hourly (dimension, hour)',
    ],
  },
  {
    // The spam filter (src/spam/store/): the Bayesian model every node shares, the messages it
    // learned (by digest, so a message is learned once and a correction moves it), and mail results.
    version: 3,
    statements: [
      'CREATE TABLE spam_tokens (token TEXT PRIMARY KEY, spam BIGINT NOT NULL, ham BIGINT NOT NULL, updated_ms BIGINT NOT NULL)',
      'CREATE INDEX spam_tokens_updated ON spam_tokens (updated_ms)',
      'CREATE TABLE spam_learned (digest TEXT PRIMARY KEY, spam INTEGER NOT NULL, at_ms BIGINT NOT NULL)',
      `CREATE TABLE mail_results (node TEXT NOT NULL, boot TEXT NOT NULL, seq BIGINT NOT NULL, at_ms BIGINT NOT NULL, direction TEXT NOT NULL,
        client TEXT NOT NULL, sender TEXT NOT NULL, recipients TEXT NOT NULL, subject TEXT NOT NULL, score DOUBLE PRECISION NOT NULL,
        verdict TEXT NOT NULL, action TEXT NOT NULL, rules TEXT NOT NULL, PRIMARY KEY (node, boot, seq))`,
      'CREATE INDEX mail_results_at ON mail_results (at_ms)',
      `CREATE TABLE mail_rule_hits (node TEXT NOT NULL, boot TEXT NOT NULL, seq BIGINT NOT NULL, rule TEXT NOT NULL, at_ms BIGINT NOT NULL,
        score DOUBLE PRECISION NOT NULL, action TEXT NOT NULL, PRIMARY KEY (node, boot, seq, rule))`,
      'CREATE INDEX mail_rule_hits_at ON mail_rule_hits (at_ms)',
    ],
  },
  {
    // A mail filter's action on the message (spam:reject, content:archive …): the event says what
    // happened to the message, not only the virus decision. Old rows read ''.
    version: 4,
    statements: ['ALTER TABLE events ADD COLUMN filter_action TEXT NOT NULL DEFAULT \'\''],
  },
]

export const eventColumns = ['node', 'boot', 'seq', 'at_ms', 'action', 'service', 'method', 'client', 'username', 'url', 'verdict', 'threat', 'reason', 'bytes', 'sha256', 'quarantine_id', 'sender', 'recipients', 'filter_action'] as const
export const hourlyColumns = ['hour', 'dimension', 'key', 'objects', 'bytes', 'infections', 'blocks'] as const

/// The event's values in eventColumns order.
export function eventValues (e: DecisionEvent): Array<string | number> {
  return [e.node, e.boot, e.seq, e.at, e.action, e.service, e.method, e.client, e.user, e.url, e.verdict, e.threat, e.reason, e.bytes, e.sha256, e.quarantineId, e.sender, e.recipients, e.filterAction]
}

/// Adds a batch's counts to the rows already there: two nodes writing the same hour add up.
export const hourlyUpsertTail = 'ON CONFLICT (hour, dimension, key) DO UPDATE SET objects = hourly.objects + excluded.objects, ' +
  'bytes = hourly.bytes + excluded.bytes, infections = hourly.infections + excluded.infections, blocks = hourly.blocks + excluded.blocks'

export const selectEvents = `SELECT ${eventColumns.join(', ')} FROM events WHERE at_ms >= ? ORDER BY at_ms, node, boot, seq LIMIT ?`
export const selectTotals = 'SELECT key, SUM(objects) AS objects, SUM(bytes) AS bytes, SUM(infections) AS infections, SUM(blocks) AS blocks ' +
  'FROM hourly WHERE dimension = ? AND hour >= ? GROUP BY key ORDER BY SUM(objects) DESC, key LIMIT ?'
export const pruneEvents = 'DELETE FROM events WHERE at_ms < ?'
export const pruneHourly = 'DELETE FROM hourly WHERE hour < ?'

export interface TotalRow { readonly key: string, readonly objects: number, readonly bytes: number, readonly infections: number, readonly blocks: number }

/// A row as either driver returns it (PostgreSQL gives BIGINT as a string) to a typed value.
export function totalOf (row: Record<string, unknown>): TotalRow {
  return { key: String(row['key']), objects: Number(row['objects']), bytes: Number(row['bytes']), infections: Number(row['infections']), blocks: Number(row['blocks']) }
}

export function eventOfRow (row: Record<string, unknown>): DecisionEvent {
  const text = (name: string): string => String(row[name] ?? '')
  return {
    node: text('node'),
    boot: text('boot'),
    seq: Number(row['seq']),
    at: Number(row['at_ms']),
    action: text('action') as EventAction,
    service: text('service'),
    method: text('method'),
    client: text('client'),
    user: text('username'),
    url: text('url'),
    verdict: text('verdict'),
    threat: text('threat'),
    reason: text('reason'),
    bytes: Number(row['bytes']),
    sha256: text('sha256'),
    quarantineId: text('quarantine_id'),
    sender: text('sender'),
    recipients: text('recipients'),
    filterAction: text('filter_action'),
  }
}

export type { Dimension }
