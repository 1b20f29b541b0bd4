/// Opens the decision database config `stats` names: PostgreSQL when stats.url is set, else the
/// embedded SQLite file at stats.path. The node and the CLI both come here; the node also gets its
/// recorder here.
import { ScanwallError, errorMessage } from '../errors.js'
import type { RecordStore } from './store.js'
import { SqliteStore } from './sqlite-store.js'
import { SqliteThreadStore } from './sqlite-thread.js'
import { PgStore } from './pg-store.js'
import { DecisionRecorder } from './writer.js'
import type { Logger } from '../log.js'

export interface StoreSettings { readonly url: string, readonly path: string }

export async function openStore (settings: StoreSettings, { readonly = false }: { readonly readonly?: boolean } = {}): Promise<RecordStore> {
  if (settings.url !== '') {
    if (!/^postgres(ql)?:\/\//.test(settings.url)) throw new ScanwallError('CONFIG_INVALID', 'stats.url: must be a postgres:// or postgresql:// URL')
    try {
      return await PgStore.open(settings.url, { migrate: !readonly })
    } catch (err) {
      throw new ScanwallError('CONFIG_INVALID', `stats.url: cannot open the PostgreSQL database: ${errorMessage(err)}`)
    }
  }
  try {
    // The node writes on a thread of its own (sqlite-thread.ts); the CLI reads in-process.
    return readonly ? new SqliteStore(settings.path, { readonly }) : await SqliteThreadStore.open(settings.path)
  } catch (err) {
    throw new ScanwallError('CONFIG_INVALID', `stats.path: cannot open ${settings.path}: ${errorMessage(err)}`)
  }
}

export interface StatsSettings extends StoreSettings {
  readonly enabled: boolean
  readonly queueSize: number
  readonly batchEvents: number
  readonly flushMs: number
  readonly retentionDays: number
  readonly hourlyRetentionDays: number
}

/// The node's recorder from config `stats`, retention applied once at start; undefined when
/// stats.enabled is false.
export async function startRecorder (stats: StatsSettings, nodeId: string, log: Logger): Promise<DecisionRecorder | undefined> {
  if (!stats.enabled) return undefined
  const store = await openStore(stats)
  const recorder = new DecisionRecorder(store, { ...stats, nodeId }, log)
  log.info({ store: store.name, queueSize: stats.queueSize, flushMs: stats.flushMs, boot: recorder.boot }, 'decision records open')
  await recorder.prune()
  return recorder
}
