/// Trickle mode (the leaky large-download mode, SQUID-NOTES §3.4): a RESPMOD whose clean answer
/// would be a 200 echo starts that echo while the body still arrives, and holds back its last
/// `holdBackBytes` until the handler has decided. Clean: the held tail and the last chunk follow.
/// Anything else: the connection is cut, so the client gets a truncated object that never has its
/// last bytes; the prefix already sent has leaked, which is why the application must ask for this.
/// Streaming the echo also keeps Squid ≤ 6.12 moving: every adapted byte it stores wakes its parked
/// origin read (Squid bug 5352), so no delay pool is needed.
import type { Socket } from 'node:net'
import { chunkHeader, lastChunk } from './chunked.js'

const crlf = Buffer.from('\r\n', 'latin1')

export class TrickleEcho {
  readonly #socket: Socket
  readonly #head: Buffer
  readonly #holdBack: number
  /// Received and not yet written: everything once it is past the hold-back goes out.
  readonly #held: Buffer[] = []
  #heldBytes = 0
  #open = false
  #headSent = false
  /// Body bytes written to the client so far (the leaked prefix, when it ends in a cut).
  sent = 0

  /// `head`: the ICAP 200 head and the original HTTP header part, from the responder.
  constructor (socket: Socket, head: Buffer, holdBackBytes: number) {
    this.#socket = socket
    this.#head = head
    this.#holdBack = Math.max(1, holdBackBytes)
  }

  /// Bytes the client has not been sent yet: what a cut keeps from it.
  get heldBytes (): number { return this.#heldBytes }

  /// Whether the head went out (the answer has started: no other answer is possible any more).
  get started (): boolean { return this.#headSent }

  /// From now on bytes past the hold-back go out. With a preview this is after 100 Continue and
  /// after the first body bytes that follow it, so the 200 never shares a read with the 100 (Squid
  /// parses nothing after a 100 in the same read: SQUID-NOTES §1, side quirk).
  open (): void {
    this.#open = true
    this.#flush(false)
  }

  push (data: Buffer): void {
    if (data.length === 0) return
    this.#held.push(data)
    this.#heldBytes += data.length
    if (this.#open) this.#flush(false)
  }

  /// The verdict is clean: the held tail, then the last chunk.
  finish (): void {
    this.#flush(true)
    this.#socket.write(lastChunk, 'latin1')
  }

  /// Writes the head (at once: the early 200 is itself one wake-up for Squid) and every held byte
  /// past the hold-back (all of them when `all`).
  #flush (all: boolean): void {
    const keep = all ? 0 : this.#holdBack
    if (!this.#headSent) {
      this.#socket.write(this.#head)
      this.#headSent = true
    }
    let out = this.#heldBytes - keep
    if (out <= 0) return
    this.#socket.cork()
    this.#socket.write(chunkHeader(out), 'latin1')
    while (out > 0) {
      const first = this.#held[0] as Buffer
      const part = first.length <= out ? first : first.subarray(0, out)
      if (part === first) this.#held.shift()
      else this.#held[0] = first.subarray(out)
      this.#socket.write(part)
      out -= part.length
      this.#heldBytes -= part.length
      this.sent += part.length
    }
    this.#socket.write(crlf)
    this.#socket.uncork()
  }
}
