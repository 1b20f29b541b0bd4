/// What the writer and the CLI need of a decision database, whichever engine holds it: write one
/// batch in one transaction, delete what is past retention, read events and totals back.
import type { DecisionEvent } from './event.js'
import type { Dimension, HourlyRow } from './hourly.js'
import type { TotalRow } from './sql.js'

export interface RecordStore {
  /// 'sqlite:<path>' or 'postgresql' (never the URL: it may hold a password).
  readonly name: string
  /// One transaction: every event and every hourly row, or none.
  write (events: readonly DecisionEvent[], hourly: readonly HourlyRow[]): Promise<void>
  prune (eventsBeforeMs: number, hourlyBeforeSec: number): Promise<{ readonly events: number, readonly hourly: number }>
  events (sinceMs: number, limit: number): Promise<DecisionEvent[]>
  totals (dimension: Dimension, sinceSec: number, limit: number): Promise<TotalRow[]>
  close (): Promise<void>
}
