/// The timer in force on one connection: idle between requests, header while a request's headers
/// arrive, body (quiet time) while its body does. Each kind keeps one Timeout for the connection's
/// life, re-armed with refresh(); one armed for an earlier phase fires into nothing. A setTimeout and
/// a clearTimeout per phase (four of each per request) were a visible part of a 4 KiB request's CPU
/// on the I/O thread (issue #11).

export type TimerKind = 'idle' | 'header' | 'body'

export interface PhaseTimeouts {
  readonly idleTimeoutMs: number
  readonly headerTimeoutMs: number
  readonly bodyTimeoutMs: number
}

export class PhaseTimers {
  readonly #timeouts: PhaseTimeouts
  readonly #onTimeout: (kind: TimerKind) => void
  #armed: TimerKind | undefined
  readonly #timers: Partial<Record<TimerKind, NodeJS.Timeout>> = {}

  /// `onTimeout`: called when the kind armed last ran out (0 ms: that kind never runs out).
  constructor (timeouts: PhaseTimeouts, onTimeout: (kind: TimerKind) => void) {
    this.#timeouts = timeouts
    this.#onTimeout = onTimeout
  }

  /// Starts `kind` from now; whatever was armed before no longer counts.
  arm (kind: TimerKind): void {
    const t = this.#timeouts
    const ms = kind === 'idle' ? t.idleTimeoutMs : kind === 'header' ? t.headerTimeoutMs : t.bodyTimeoutMs
    if (ms <= 0) {
      this.#armed = undefined
      return
    }
    this.#armed = kind
    const timer = this.#timers[kind]
    if (timer !== undefined) {
      timer.refresh()
      return
    }
    this.#timers[kind] = setTimeout(() => {
      if (this.#armed !== kind) return // another phase took over since this one was armed
      this.#armed = undefined
      this.#onTimeout(kind)
    }, ms).unref()
  }

  /// Restarts the timer in force (quiet time is measured from now).
  rearm (): void {
    if (this.#armed !== undefined) this.#timers[this.#armed]?.refresh()
  }

  disarm (): void {
    this.#armed = undefined
  }

  /// None fires any more (the connection closed, or is closing).
  clear (): void {
    this.#armed = undefined
    for (const timer of Object.values(this.#timers)) clearTimeout(timer)
  }
}
