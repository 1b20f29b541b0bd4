/// Runs every configured health test on its own interval and reports the combined verdict (the
/// expression; default: all tests pass) whenever it or the set of failing tests changes.
import { evaluate } from './expression.js'
import { runHealthTest, type HealthContext } from './tests.js'
import type { HealthExpr, HealthTestConfig } from '../config.js'
import type { Logger } from '../../log.js'

export class HealthMonitor {
  readonly #tests: readonly HealthTestConfig[]
  readonly #expr: HealthExpr
  readonly #ctx: HealthContext
  readonly #log: Logger
  readonly #onChange: (healthy: boolean, failing: string[]) => void
  readonly #results = new Map<string, boolean>()
  readonly #timers: NodeJS.Timeout[] = []
  #last = ''

  constructor (tests: readonly HealthTestConfig[], expr: HealthExpr | undefined, ctx: HealthContext, log: Logger, onChange: (healthy: boolean, failing: string[]) => void) {
    this.#tests = tests
    this.#expr = expr ?? { all: tests.map(t => t.name) }
    this.#ctx = ctx
    this.#log = log
    this.#onChange = onChange
  }

  start (): void {
    for (const test of this.#tests) {
      let running = false
      const run = (): void => {
        if (running) return
        running = true
        void runHealthTest(test, this.#ctx).then(result => {
          running = false
          if (this.#results.get(test.name) !== result.ok) this.#log.info({ test: test.name, ok: result.ok, detail: result.detail }, 'health test changed')
          this.#results.set(test.name, result.ok)
          this.#report()
        })
      }
      run()
      this.#timers.push(setInterval(run, test.intervalMs))
    }
  }

  #report (): void {
    const healthy = evaluate(this.#expr, this.#results)
    const failing = [...this.#results].filter(([, ok]) => !ok).map(([name]) => name).sort()
    const key = `${healthy}|${failing.join(',')}`
    if (key === this.#last) return
    this.#last = key
    this.#onChange(healthy, failing)
  }

  stop (): void { for (const t of this.#timers) clearInterval(t) }
}
