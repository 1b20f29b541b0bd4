/// The hourly aggregates kept in memory between two writes: per hour, per dimension (service,
/// client, user, threat, and for mail the envelope sender and each recipient) and key, the objects, bytes, infections and blocks. Adding one object is a
/// few map updates on the I/O thread; the writer takes the whole tally with each batch and the
/// stores add it to the rows already there (so two nodes sharing a database add up).
import type { RecordInput } from './recorder.js'
import { threatOf } from './event.js'

export const dimensions = ['service', 'client', 'user', 'threat', 'sender', 'recipient'] as const
export type Dimension = typeof dimensions[number]

export interface HourlyRow {
  /// The hour's start, seconds since the epoch.
  readonly hour: number
  readonly dimension: Dimension
  readonly key: string
  objects: number
  bytes: number
  infections: number
  blocks: number
}

export class HourlyTally {
  #rows = new Map<string, HourlyRow>()

  get size (): number { return this.#rows.size }

  add (input: RecordInput, atMs: number): void {
    const hour = Math.floor(atMs / 3_600_000) * 3600
    const infected = input.verdict.status === 'infected' ? 1 : 0
    const blocked = input.decision.action === 'block' ? 1 : 0
    const ctx = input.context
    this.#add(hour, 'service', ctx.service, input.bytes, infected, blocked)
    this.#add(hour, 'client', ctx.client ?? '', input.bytes, infected, blocked)
    if (ctx.user !== undefined && ctx.user !== '') this.#add(hour, 'user', ctx.user, input.bytes, infected, blocked)
    const threat = threatOf(input)
    if (threat !== '') this.#add(hour, 'threat', threat, input.bytes, infected, blocked)
    // Mail usage (the e-mail manager): per sender and per recipient; a bounce's sender is `<>`.
    if (ctx.mail !== undefined) {
      this.#add(hour, 'sender', ctx.mail.sender === '' ? '<>' : ctx.mail.sender.toLowerCase(), input.bytes, infected, blocked)
      for (const r of new Set(ctx.mail.recipients.map(a => a.toLowerCase()))) this.#add(hour, 'recipient', r, input.bytes, infected, blocked)
    }
  }

  #add (hour: number, dimension: Dimension, key: string, bytes: number, infections: number, blocks: number): void {
    const id = `${hour}\u0000${dimension}\u0000${key}`
    let row = this.#rows.get(id)
    if (row === undefined) {
      row = { hour, dimension, key, objects: 0, bytes: 0, infections: 0, blocks: 0 }
      this.#rows.set(id, row)
    }
    row.objects++
    row.bytes += bytes
    row.infections += infections
    row.blocks += blocks
  }

  /// The rows so far, and an empty tally from now on.
  take (): HourlyRow[] {
    const rows = [...this.#rows.values()]
    this.#rows = new Map()
    return rows
  }
}
