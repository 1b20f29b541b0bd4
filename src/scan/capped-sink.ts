/// A scan-service body sink with the object-size cap in front of it, for the protocol adapters that
/// receive a body chunk by chunk (clamd's INSTREAM, the milter's message): bytes are counted, and
/// once the count passes scan.maxObjectBytes the sink is thrown away and later bytes are dropped,
/// so an oversize body costs no memory or spool space; it is then judged by its size alone (an
/// `oversize` scan body, a `limit` verdict). Finishing or discarding twice is harmless.
import type { BodySink, BodySource } from './body.js'
import type { OversizeBody } from './input.js'

export interface CappedSink {
  /// Appends bytes (a promise while they go to the spool file: back-pressure), or drops them past the cap.
  write (bytes: Uint8Array): Promise<void> | undefined
  /// Bytes written so far, including those dropped past the cap.
  readonly size: number
  /// True once the cap was passed: the sink is gone, `finish` must not be called.
  readonly over: boolean
  /// The body as an oversize input (not scanned), with its size.
  oversize (): OversizeBody
  /// Ends the body and hands it over (the caller releases it with releaseSource).
  finish (): Promise<BodySource>
  /// Throws the bytes away (abort, or judged without a scan); a no-op once finished or over.
  discard (): Promise<void>
}

export function cappedSink (sink: BodySink, maxBytes: number): CappedSink {
  let size = 0
  let over = false
  let closed = false
  return {
    get size () { return size },
    get over () { return over },
    write (bytes) {
      size += bytes.length
      if (over || size > maxBytes) {
        if (!over && !closed) void sink.discard()
        over = true
        return undefined
      }
      return sink.write(bytes)
    },
    oversize: () => ({ kind: 'oversize', size, kept: undefined }),
    async finish () {
      closed = true
      return await sink.finish()
    },
    async discard () {
      if (over || closed) return
      closed = true
      await sink.discard()
    },
  }
}
