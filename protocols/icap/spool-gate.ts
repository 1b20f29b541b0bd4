/// SpoolGate: one budget for the body bytes that all connections of a server have handed to spool
/// files and the disk has not taken yet. Each transaction may queue at most its share of the budget
/// (the budget divided by the transactions currently writing, between a floor and a ceiling) before
/// its socket is paused, so the memory held for disk writes is bounded by construction: about
/// budget + one socket read per open transaction, whatever the number of concurrent large bodies
/// (a fixed 4 MiB per transaction let 32 concurrent 100 MiB RESPMODs hold 128 MiB).
/// A paused transaction always has bytes of its own in flight, and each completed write of its own
/// re-evaluates its share, so no connection waits on another's progress.

export interface SpoolGateOptions {
  /// Total bytes queued for disk across every transaction.
  readonly budgetBytes: number
  /// A single transaction's share never exceeds this (the former fixed per-transaction cap)…
  readonly maxShareBytes: number
  /// …and never falls below this, so a crowd of writers still moves in reasonably large writes.
  readonly minShareBytes: number
}

export const defaultSpoolGate: SpoolGateOptions = {
  budgetBytes: 16 * 1024 * 1024,
  maxShareBytes: 4 * 1024 * 1024,
  minShareBytes: 256 * 1024,
}

export class SpoolGate {
  readonly #options: SpoolGateOptions
  #queued = 0
  #writers = 0

  constructor (options: SpoolGateOptions = defaultSpoolGate) { this.#options = options }

  /// Bytes queued for disk right now, across all transactions.
  get queued (): number { return this.#queued }
  /// Transactions with bytes queued right now.
  get writers (): number { return this.#writers }

  /// How many queued bytes one transaction may have before its socket is paused.
  get share (): number {
    const { budgetBytes, maxShareBytes, minShareBytes } = this.#options
    return Math.max(minShareBytes, Math.min(maxShareBytes, Math.floor(budgetBytes / Math.max(1, this.#writers))))
  }

  /// A transaction whose backlog was `before` bytes queued `size` more.
  queue (before: number, size: number): void {
    if (before === 0 && size > 0) this.#writers++
    this.#queued += size
  }

  /// `size` bytes of a transaction reached the disk (or were dropped); its backlog is now `after`.
  written (after: number, size: number): void {
    this.#queued -= size
    if (after === 0 && size > 0) this.#writers--
  }
}
