/// The incremental clamd request parser: socket bytes in (`push`), events out, no I/O. It cuts
/// commands (`zCMD\0`, `nCMD\n`, and the old-style first command: one received packet, cut at its
/// first newline, as clamd reads it), and after INSTREAM it reads the `<uint32 BE length><bytes>`
/// chunks, checking each length against the stream limit before any of its bytes are taken, so a
/// client that announces too much is answered at once. Whether another command may follow (a
/// session) is the connection's business: it calls `stop()` when it wants no more.
import { classify, type Command } from './commands.js'

export type Terminator = '\0' | '\n'

export type ClamdEvent =
  | { readonly kind: 'command', readonly command: Command, readonly terminator: Terminator }
  /// A complete line that is no command clamd knows in that framing: UNKNOWN COMMAND.
  | { readonly kind: 'unknown', readonly terminator: Terminator }
  /// INSTREAM payload bytes (a view of the pushed chunk, not a copy).
  | { readonly kind: 'chunk', readonly bytes: Uint8Array }
  /// The zero-length chunk that ends an INSTREAM.
  | { readonly kind: 'streamEnd' }
  /// A chunk length that would take the stream past the limit (its bytes were not read).
  | { readonly kind: 'streamTooLarge' }
  /// A command line longer than the limit, or an unprefixed command where only prefixed ones may come.
  | { readonly kind: 'malformed', readonly reason: 'line too long' | 'not prefixed' }

export interface ClamdParserLimits {
  /// Longest command line (clamd reads commands into a fixed buffer).
  readonly maxCommandBytes: number
  /// StreamMaxLength: bytes one INSTREAM may carry.
  readonly streamMaxBytes: number
}

type State = 'first' | 'command' | 'length' | 'data' | 'stopped'

const NUL = 0
const LF = 10
const CR = 13
const Z = 0x7a
const N = 0x6e

export class ClamdParser {
  readonly #limits: ClamdParserLimits
  #state: State = 'first'
  /// The command being read: its terminator and the bytes so far.
  #terminator: Terminator | undefined
  #line: Buffer[] = []
  #lineBytes = 0
  /// INSTREAM: the partial length header, bytes left of the current chunk, and the stream's total.
  #header = Buffer.alloc(4)
  #headerBytes = 0
  #remaining = 0
  #streamed = 0

  constructor (limits: ClamdParserLimits) { this.#limits = limits }

  /// True while an INSTREAM's chunks are being read.
  get inStream (): boolean { return this.#state === 'length' || this.#state === 'data' }

  /// No further input is parsed (the connection answered its one command, or gave up).
  stop (): void { this.#state = 'stopped' }
  get stopped (): boolean { return this.#state === 'stopped' }

  push (chunk: Uint8Array): ClamdEvent[] {
    const events: ClamdEvent[] = []
    let at = 0
    while (at < chunk.length && this.#state !== 'stopped') {
      switch (this.#state as Exclude<State, 'stopped'>) {
        case 'first':
          if (chunk[at] !== Z && chunk[at] !== N) {
            at = this.#oldStyle(chunk, at, events)
            break
          }
          this.#state = 'command'
          break
        case 'command':
          at = this.#command(chunk, at, events)
          break
        case 'length':
          at = this.#length(chunk, at, events)
          break
        case 'data': {
          const take = Math.min(this.#remaining, chunk.length - at)
          events.push({ kind: 'chunk', bytes: chunk.subarray(at, at + take) })
          this.#remaining -= take
          at += take
          if (this.#remaining === 0) this.#state = 'length'
          break
        }
      }
    }
    return events
  }

  /// clamd takes one received packet as the old-style command, up to its first newline; nothing
  /// after it is read.
  #oldStyle (chunk: Uint8Array, at: number, events: ClamdEvent[]): number {
    const lf = chunk.indexOf(LF, at)
    let end = lf < 0 ? chunk.length : lf
    if (end > at && chunk[end - 1] === CR) end--
    this.#state = 'stopped'
    if (end - at > this.#limits.maxCommandBytes) {
      events.push({ kind: 'malformed', reason: 'line too long' })
      return chunk.length
    }
    this.#emitLine(Buffer.from(chunk.buffer, chunk.byteOffset + at, end - at).toString('latin1'), 'old', '\n', events)
    return chunk.length
  }

  #command (chunk: Uint8Array, at: number, events: ClamdEvent[]): number {
    if (this.#terminator === undefined) {
      const prefix = chunk[at]
      if (prefix !== Z && prefix !== N) {
        this.#state = 'stopped'
        events.push({ kind: 'malformed', reason: 'not prefixed' })
        return chunk.length
      }
      this.#terminator = prefix === Z ? '\0' : '\n'
      at++
    }
    const end = chunk.indexOf(this.#terminator === '\0' ? NUL : LF, at)
    const stop = end < 0 ? chunk.length : end
    this.#lineBytes += stop - at
    if (this.#lineBytes > this.#limits.maxCommandBytes) {
      this.#state = 'stopped'
      events.push({ kind: 'malformed', reason: 'line too long' })
      return chunk.length
    }
    this.#line.push(Buffer.from(chunk.buffer, chunk.byteOffset + at, stop - at))
    if (end < 0) return chunk.length
    let line = Buffer.concat(this.#line).toString('latin1')
    const terminator = this.#terminator
    if (terminator === '\n' && line.endsWith('\r')) line = line.slice(0, -1)
    this.#line = []
    this.#lineBytes = 0
    this.#terminator = undefined
    this.#emitLine(line, terminator === '\0' ? 'z' : 'n', terminator, events)
    return end + 1
  }

  #emitLine (line: string, framing: 'z' | 'n' | 'old', terminator: Terminator, events: ClamdEvent[]): void {
    const command = classify(line, framing)
    if (command === undefined) {
      events.push({ kind: 'unknown', terminator })
      return
    }
    events.push({ kind: 'command', command, terminator })
    if (command.name === 'INSTREAM' && this.#state !== 'stopped') {
      this.#state = 'length'
      this.#streamed = 0
      this.#headerBytes = 0
    }
  }

  #length (chunk: Uint8Array, at: number, events: ClamdEvent[]): number {
    const take = Math.min(4 - this.#headerBytes, chunk.length - at)
    this.#header.set(chunk.subarray(at, at + take), this.#headerBytes)
    this.#headerBytes += take
    if (this.#headerBytes < 4) return at + take
    this.#headerBytes = 0
    const length = this.#header.readUInt32BE(0)
    if (length === 0) {
      this.#state = 'command'
      events.push({ kind: 'streamEnd' })
    } else if (this.#streamed + length > this.#limits.streamMaxBytes) {
      this.#state = 'stopped'
      events.push({ kind: 'streamTooLarge' })
    } else {
      this.#streamed += length
      this.#remaining = length
      this.#state = 'data'
    }
    return at + take
  }
}
