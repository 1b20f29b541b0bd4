/// Runs every configured health test on its own interval and reports the combined verdict (the
/// expression; default: all tests pass) whenever it or the set of failing tests changes. Keeps each
/// test's last result (pass/fail, detail, when) for readers such as the SNMP health table.
import { evaluate } from './expression.js'
import { runHealthTest, type HealthContext, type HealthResult } from './tests.js'
import type { HealthExpr, HealthTestConfig } from '../config.js'
import type { Logger } from '../../log.js'

export interface TestResult extends HealthResult {
  readonly name: string
  /// Epoch ms the result came in.
  readonly at: number
}

export class HealthMonitor {
  readonly #tests: readonly HealthTestConfig[]
  readonly #expr: HealthExpr
  readonly #ctx: HealthContext
  readonly #log: Logger
  readonly #onChange: (healthy: boolean, failing: string[]) => void
  readonly #results = new Map<string, TestResult>()
  readonly #timers: NodeJS.Timeout[] = []
  #last = ''
  #stopped = false

  constructor (tests: readonly HealthTestConfig[], expr: HealthExpr | undefined, ctx: HealthContext, log: Logger, onChange: (healthy: boolean, failing: string[]) => void) {
    this.#tests = tests
    this.#expr = expr ?? { all: tests.map(t => t.name) }
    this.#ctx = ctx
    this.#log = log
    this.#onChange = onChange
  }

  /// The configured tests in order, with their last result (undefined: not run yet).
  results (): Array<{ readonly name: string, readonly last: TestResult | undefined }> {
    return this.#tests.map(t => ({ name: t.name, last: this.#results.get(t.name) }))
  }

  start (): void {
    for (const test of this.#tests) {
      let running = false
      const run = (): void => {
        if (running || this.#stopped) return
        running = true
        void runHealthTest(test, this.#ctx).then(result => {
          running = false
          // A test that finishes after stop() reports nothing: the node is leaving.
          if (this.#stopped) return
          if (this.#results.get(test.name)?.ok !== result.ok) this.#log.info({ test: test.name, ok: result.ok, detail: result.detail }, 'health test changed')
          this.#results.set(test.name, { name: test.name, ...result, at: Date.now() })
          this.#report()
        })
      }
      run()
      this.#timers.push(setInterval(run, test.intervalMs))
    }
  }

  #report (): void {
    const ok = new Map([...this.#results].map(([name, r]) => [name, r.ok]))
    const healthy = evaluate(this.#expr, ok)
    const failing = [...ok].filter(([, pass]) => !pass).map(([name]) => name).sort()
    const key = `${healthy}|${failing.join(',')}`
    if (key === this.#last) return
    this.#last = key
    this.#onChange(healthy, failing)
  }

  stop (): void {
    this.#stopped = true
    for (const t of this.#timers.splice(0)) clearInterval(t)
  }
}
