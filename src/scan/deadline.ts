/// Hard deadlines for pool tasks, all watched by one timer. Each scan used to allocate an
/// AbortController (an EventTarget, costly to build in Node 20) and arm its own setTimeout only to
/// kill a worker that ignores the cooperative budget; on 4 KiB bodies those were a visible part of
/// the per-request cost on the event-loop thread. A Deadline is the minimal abort-signal shape that
/// Piscina accepts (addEventListener/removeEventListener/aborted/reason); since every task gets the
/// same time, deadlines expire in submission order and the sweep stops at the first live one.

export class Deadline {
  readonly at: number
  aborted = false
  reason: unknown = undefined
  #listener: (() => void) | undefined

  constructor (at: number) { this.at = at }

  addEventListener (_name: 'abort', listener: () => void): void { this.#listener = listener }

  removeEventListener (_name: 'abort', listener: () => void): void {
    if (this.#listener === listener) this.#listener = undefined
  }

  fire (reason: string): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    const listener = this.#listener
    this.#listener = undefined
    listener?.()
  }
}

export class DeadlineWatch {
  readonly #ms: number
  readonly #tickMs: number
  /// Insertion order is deadline order (one duration for all).
  readonly #pending = new Set<Deadline>()
  #timer: NodeJS.Timeout | undefined

  constructor (ms: number) {
    this.#ms = ms
    // Lateness of a hard kill is at most one tick: a small fraction of the budget, at most 1 s.
    this.#tickMs = Math.max(10, Math.min(1000, Math.floor(ms / 20)))
  }

  start (): Deadline {
    const deadline = new Deadline(performance.now() + this.#ms)
    this.#pending.add(deadline)
    this.#timer ??= setInterval(() => { this.#sweep() }, this.#tickMs)
    return deadline
  }

  done (deadline: Deadline): void {
    this.#pending.delete(deadline)
    if (this.#pending.size === 0) this.#stop()
  }

  #sweep (): void {
    const now = performance.now()
    for (const deadline of this.#pending) {
      if (deadline.at > now) break
      this.#pending.delete(deadline)
      deadline.fire('hard scan deadline passed')
    }
    if (this.#pending.size === 0) this.#stop()
  }

  #stop (): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }
}
