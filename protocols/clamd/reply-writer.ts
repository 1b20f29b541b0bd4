/// The write side of a clamd connection: replies written as they are ready, the last one sent with
/// the write side closed, then the linger until the client closes. Nothing is written once the
/// socket is closed or no longer writable (a client that left).
import type { Socket } from 'node:net'

export class ReplyWriter {
  readonly #socket: Socket
  readonly #lingerMs: number
  #closed = false
  #linger: NodeJS.Timeout | undefined

  /// lingerMs: how long a client still sending after the last reply is waited for (timeouts.readMs).
  constructor (socket: Socket, lingerMs: number) {
    this.#socket = socket
    this.#lingerMs = lingerMs
  }

  get closed (): boolean { return this.#closed }
  /// Answered already and only waiting for the client to close.
  get lingering (): boolean { return this.#linger !== undefined }

  write (bytes: Buffer): void {
    if (!this.#closed && this.#socket.writable) this.#socket.write(bytes)
  }

  /// Writes the last bytes (if any), closes the write side and lingers.
  end (last: Buffer | undefined): void {
    if (!this.#closed) {
      if (last !== undefined && this.#socket.writable) this.#socket.end(last)
      else this.#socket.end()
    }
    // Reading goes on (the connection drops the bytes) so a client still writing gets our line, not
    // a reset: the line is in its receive buffer, but a client whose next write fails (EPIPE,
    // ECONNRESET) gives up before reading it (Node's net, python-clamd). A client that half-closed
    // is closed by Node as soon as the line is out; one still sending is waited for up to
    // timeouts.readMs, the time a stalled stream gets: a fixed 2 s lost the line to clients starved
    // of CPU for longer. No new exposure: a client could hold the connection that long mid-stream.
    this.#linger = setTimeout(() => { this.#socket.destroy() }, this.#lingerMs).unref()
  }

  /// The socket closed. The linger timer is cleared: one connection per object is the common case,
  /// and a timer left to fire would keep each closed socket reachable for the whole linger time.
  onClose (): void {
    this.#closed = true
    clearTimeout(this.#linger)
  }
}
