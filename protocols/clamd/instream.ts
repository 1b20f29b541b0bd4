/// One INSTREAM being received: the handler's stream body that its chunks go into as they arrive
/// (a slow spool asks the connection to pause the socket), its id inside a session, the framing its
/// reply must use, the bytes so far and when it began; at the end, the scan's answer.
import type { Terminator } from './parser.js'
import { resultLines } from './replies.js'
import type { StreamBody } from './handler.js'
import { scanAnswer, type Answer } from './answers.js'

export class Instream {
  #bytes = 0
  readonly started = performance.now()

  constructor (readonly body: StreamBody, readonly id: number | undefined, readonly terminator: Terminator) {}

  /// A chunk into the body; a promise when the socket should stay paused until it settles.
  write (bytes: Uint8Array): Promise<void> | undefined {
    this.#bytes += bytes.length
    return this.body.write(bytes)
  }

  /// The body is complete: scan it and answer `stream: …`.
  async answer (signal: AbortSignal): Promise<Answer> {
    return scanAnswer('INSTREAM', resultLines('stream', await this.body.scan(signal)), this.#bytes)
  }

  /// Throws the body away (over the size limit, timed out, the client left); never rejects.
  async discard (): Promise<void> {
    await this.body.discard().catch(() => {})
  }
}
