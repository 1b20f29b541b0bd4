/// The node's start-up and shut-down as one ordered stack of started parts. Each part is started
/// with its stop, so the order is written once: shut-down stops the parts in reverse, and a part that
/// fails to start stops the ones already started before the error goes on.
import type { Logger } from './log.js'
import { errorMessage } from './errors.js'

interface Part {
  readonly name: string
  readonly stop: () => Promise<void>
}

export class StartedParts {
  readonly #log: Logger
  readonly #parts: Part[] = []
  #stopping: Promise<void> | undefined

  constructor (log: Logger) { this.#log = log }

  /// The names of the parts started so far, in start order.
  get names (): readonly string[] { return this.#parts.map(p => p.name) }

  /// Starts one part and pushes its stop. If `start` throws, every part started before it is stopped
  /// (newest first) and the error is rethrown, so a failed start-up leaves nothing running.
  async start<T> (name: string, start: () => Promise<T> | T, stop: (value: T) => Promise<void> | void): Promise<T> {
    if (this.#stopping !== undefined) throw new Error(`cannot start ${name}: shutting down`)
    let value: T
    try {
      value = await start()
    } catch (err) {
      this.#log.error({ part: name, err: errorMessage(err) }, 'start-up failed; stopping what started')
      await this.stop()
      throw err
    }
    this.#parts.push({ name, stop: async () => { await stop(value) } })
    return value
  }

  /// Stops every part, newest first, once (later calls wait for the same run). A part whose stop
  /// fails is logged and the others still stop: a half-stopped node is worse than a logged error.
  async stop (): Promise<void> {
    this.#stopping ??= (async () => {
      for (const part of this.#parts.splice(0).reverse()) {
        try {
          await part.stop()
        } catch (err) {
          this.#log.error({ part: part.name, err: errorMessage(err) }, 'stopping a part failed')
        }
      }
    })()
    await this.#stopping
  }
}
