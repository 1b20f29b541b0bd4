/// Records each filtered mail (spam verdict or content hit) in the decision database: score, the
/// rules that hit, the action. Rows are queued (bounded: past `maxQueued` new rows are dropped and
/// counted, never waited for) and written in one transaction per second, off the mail's path.
import { randomUUID } from 'node:crypto'
import { errorMessage } from '../errors.js'
import type { Logger } from '../log.js'
import type { MailResultRow, SpamStore } from './store/store.js'

export type MailResultInput = Omit<MailResultRow, 'node' | 'boot' | 'seq' | 'at'> & { readonly at?: number }

const maxQueued = 50_000
const flushMs = 1000

export class MailResults {
  readonly #store: SpamStore
  readonly #node: string
  readonly #boot = randomUUID()
  readonly #log: Logger
  readonly #timer: NodeJS.Timeout
  #queue: MailResultRow[] = []
  #seq = 0
  #writing: Promise<void> = Promise.resolve()
  dropped = 0

  constructor (store: SpamStore, node: string, log: Logger) {
    this.#store = store
    this.#node = node
    this.#log = log
    this.#timer = setInterval(() => { void this.flush() }, flushMs).unref()
  }

  record (input: MailResultInput): void {
    if (this.#queue.length >= maxQueued) { this.dropped++; return }
    this.#queue.push({ ...input, at: input.at ?? Date.now(), node: this.#node, boot: this.#boot, seq: this.#seq++ })
  }

  /// Writes what is queued; a failed write is logged and its rows dropped (the mail flow never waits).
  async flush (): Promise<void> {
    const rows = this.#queue
    if (rows.length === 0) return await this.#writing
    this.#queue = []
    this.#writing = this.#writing.then(async () => {
      try {
        await this.#store.writeResults(rows)
      } catch (err) {
        this.dropped += rows.length
        this.#log.warn({ rows: rows.length, err: errorMessage(err) }, 'mail results not written')
      }
    })
    await this.#writing
  }

  async close (): Promise<void> {
    clearInterval(this.#timer)
    await this.flush()
  }
}
