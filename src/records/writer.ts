/// The decision recorder: takes every decided object on the I/O thread (a few map updates and, for
/// an event, one array push), and writes batches off the transaction path: one writer, one batch in
/// flight, every stats.flushMs or as soon as a batch is full. The queue is bounded: a full queue drops
/// the new event and counts it, it never makes a transaction wait. A failed write keeps its batch
/// and retries it first (events have a primary key, so a retried batch cannot double them).
///
/// Acknowledgement: after each committed batch the writer logs `records committed` (debug) with
/// the boot and the first and last event numbers. Events in a logged range are in the database:
/// the log line is written after the commit returned. SIGKILL tests hold the store to exactly that.
import { randomBytes } from 'node:crypto'
import type { Logger } from '../log.js'
import { errorMessage } from '../errors.js'
import type { Recorder, RecordInput } from './recorder.js'
import { adminEventOf, eventAction, eventOf, type AdminChange, type DecisionEvent } from './event.js'
import { HourlyTally, type HourlyRow } from './hourly.js'
import type { RecordStore } from './store.js'

export interface WriterOptions {
  readonly nodeId: string
  readonly queueSize: number
  readonly batchEvents: number
  readonly flushMs: number
  readonly retentionDays: number
  readonly hourlyRetentionDays: number
}

interface Batch { readonly events: DecisionEvent[], readonly hourly: HourlyRow[] }

const dayMs = 86_400_000
/// Retention runs at start and then hourly: deleting is cheap next to the hour's writes.
const pruneEveryMs = 3_600_000

export class DecisionRecorder implements Recorder {
  readonly boot = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
  readonly #store: RecordStore
  readonly #options: WriterOptions
  readonly #log: Logger
  readonly #tally = new HourlyTally()
  #queue: DecisionEvent[] = []
  #retry: Batch | undefined
  #seq = 0
  #writing: Promise<void> | undefined
  #soon = false
  #closed = false
  readonly #timer: NodeJS.Timeout
  readonly #pruneTimer: NodeJS.Timeout
  #recorded = 0
  #dropped = 0
  #committed = 0
  #failures = 0

  constructor (store: RecordStore, options: WriterOptions, log: Logger) {
    this.#store = store
    this.#options = options
    this.#log = log
    this.#timer = setInterval(() => { void this.flush() }, options.flushMs).unref()
    this.#pruneTimer = setInterval(() => { void this.prune() }, pruneEveryMs).unref()
  }

  get storeName (): string { return this.#store.name }
  /// Objects recorded, events dropped on a full queue, events committed, failed writes.
  get counts (): { recorded: number, dropped: number, committed: number, failures: number, queued: number } {
    return { recorded: this.#recorded, dropped: this.#dropped, committed: this.#committed, failures: this.#failures, queued: this.#queue.length }
  }

  record (input: RecordInput): void {
    if (this.#closed) return
    const now = Date.now()
    this.#recorded++
    this.#tally.add(input, now)
    const action = eventAction(input)
    if (action === undefined) return
    if (this.#queue.length >= this.#options.queueSize) {
      if (this.#dropped++ === 0) this.#log.warn({ queueSize: this.#options.queueSize }, 'decision records: queue full, dropping events (counted)')
      return
    }
    this.#queue.push(eventOf(input, action, this.#options.nodeId, this.boot, ++this.#seq, now))
    if (this.#queue.length >= this.#options.batchEvents && !this.#soon) {
      this.#soon = true
      setImmediate(() => { this.#soon = false; void this.flush() })
    }
  }

  /// An operator's change, queued like a decision's event (and dropped and counted like one when
  /// the queue is full).
  recordAdmin (change: AdminChange): void {
    if (this.#closed) return
    if (this.#queue.length >= this.#options.queueSize) { this.#dropped++; return }
    this.#queue.push(adminEventOf(change, this.#options.nodeId, this.boot, ++this.#seq, Date.now()))
  }

  /// Writes what is waiting, one batch at a time; resolves when this round is done. Never throws.
  async flush (): Promise<void> {
    if (this.#writing !== undefined) return await this.#writing
    this.#writing = this.#drain().finally(() => { this.#writing = undefined })
    await this.#writing
  }

  async #drain (): Promise<void> {
    for (;;) {
      const batch = this.#retry ?? this.#next()
      if (batch === undefined) return
      try {
        await this.#store.write(batch.events, batch.hourly)
      } catch (err) {
        this.#retry = batch
        if (this.#failures++ % 100 === 0) this.#log.error({ store: this.#store.name, err: errorMessage(err), failures: this.#failures }, 'decision records: write failed; retrying')
        return
      }
      this.#retry = undefined
      this.#committed += batch.events.length
      const first = batch.events[0]
      const last = batch.events.at(-1)
      if (first !== undefined && last !== undefined) {
        this.#log.debug({ boot: this.boot, firstSeq: first.seq, lastSeq: last.seq, events: batch.events.length, dropped: this.#dropped }, 'records committed')
      }
      if (this.#queue.length < this.#options.batchEvents) return
    }
  }

  #next (): Batch | undefined {
    const events = this.#queue.length <= this.#options.batchEvents ? this.#queue : this.#queue.slice(0, this.#options.batchEvents)
    this.#queue = events === this.#queue ? [] : this.#queue.slice(this.#options.batchEvents)
    const hourly = this.#tally.take()
    return events.length === 0 && hourly.length === 0 ? undefined : { events, hourly }
  }

  /// Deletes events and aggregates past their retention. Never throws.
  async prune (now = Date.now()): Promise<void> {
    try {
      const removed = await this.#store.prune(now - this.#options.retentionDays * dayMs, Math.floor((now - this.#options.hourlyRetentionDays * dayMs) / 1000))
      if (removed.events + removed.hourly > 0) this.#log.info({ ...removed }, 'decision records: retention applied')
    } catch (err) {
      this.#log.error({ store: this.#store.name, err: errorMessage(err) }, 'decision records: retention failed')
    }
  }

  /// Stops taking records, writes what is queued (one more try after a failure), closes the store.
  async close (): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    clearInterval(this.#pruneTimer)
    await this.flush()
    if (this.#retry !== undefined || this.#queue.length > 0) await this.flush()
    const lost = this.#queue.length + (this.#retry?.events.length ?? 0)
    if (lost > 0) this.#log.error({ lost }, 'decision records: events not written at shut-down')
    this.#log.info({ store: this.#store.name, ...this.counts }, 'decision records closed')
    await this.#store.close()
  }
}
