/// Raw deflate (gzip members, zip and ALZip members) into a ChildSink. A member whose packed bytes and
/// whose output both fit in memory (limits.spoolAboveBytes, the size a child may keep in memory
/// anyway) is inflated in one synchronous node:zlib call on the worker thread; any other, and any
/// member that call refuses (output past the cap, truncated or corrupt data), goes through the
/// streaming decoder (stream.ts), which keeps what inflated before a fault and says why.
/// Why: the streaming path costs a Readable, a pipe, an async iterator and a libuv thread-pool round
/// trip per 64 KiB of output; on the peers' corpus (165 MB inflated from 41 gzip files and 92 zip
/// members of a few MiB) that machinery cost about as much worker CPU as the inflating itself
/// (docs/engine.md, `scanwall scan`). The synchronous call gives the same bytes and the same
/// consumed count (zlib's bytesWritten); a worker thread is ours to block for the few ms it takes.
import { createInflateRaw, inflateRawSync } from 'node:zlib'
import type { ScanBudget } from '../budget.js'
import type { ByteSource } from '../source.js'
import { ChildSink } from './sink.js'
import { decodeStream, type DecodeResult } from './stream.js'

/// Output bytes per streaming chunk (the budget is checked per chunk). 1 MiB, as 7-Zip's writes
/// (sevenzip.ts): each chunk is a libuv thread-pool round trip, a Buffer and a sink write (a spooled
/// child's writeSync); at 64 KiB the 12.6 MB tar.gz of bench/formats.ts took 192 of them and 48 ms of
/// worker CPU per scan, at 1 MiB 13 and 37 ms (BENCHMARKS.md, formats-5). A bomb still stops within
/// one chunk of its limit.
const streamChunkBytes = 1024 * 1024
/// The first output buffer of the one-call path when the container names no plausible size.
const defaultFirstChunk = 256 * 1024

export interface InflateOptions {
  /// Packed size for the compression-ratio check (ChildSink / ScanBudget.consume).
  readonly packed?: number
  /// The sink to write into (gzip members share one); a new one when absent.
  readonly into?: ChildSink
  /// The output size the container declares (zip's size, gzip's ISIZE): only a first buffer size.
  readonly sizeHint?: number | undefined
}

/// Inflates the raw deflate stream at the start of `input` (bytes after its end are not read by zlib
/// and not counted in `consumed`).
export async function inflateRawInto (input: ByteSource, budget: ScanBudget, options: InflateOptions = {}): Promise<DecodeResult> {
  const sink = options.into ?? new ChildSink(budget, options.packed)
  const cap = Math.min(budget.limits.spoolAboveBytes, budget.limits.maxFileBytes)
  // Only an empty sink: a second gzip member appended to a first one's output could pass the cap.
  // Not when the container declares more than the cap: zlib would inflate `cap` bytes, refuse, and
  // the streaming decoder would start over (a 12.6 MB tar.gz paid 8 MiB of inflate twice). A declared
  // size is at most the real one for a gzip member (ISIZE is the size mod 2^32); a zip or gzip that
  // lies upwards only loses the shortcut, never bytes.
  const tooBig = options.sizeHint !== undefined && options.sizeHint > cap
  if (input.size <= cap && sink.size === 0 && !tooBig) {
    const whole = oneCall(await input.read(0, input.size), cap, options.sizeHint)
    if (whole !== undefined) {
      sink.write(whole.output)
      return { sink, broken: undefined, consumed: whole.consumed }
    }
  }
  return await decodeStream(input.chunks(256 * 1024), createInflateRaw({ chunkSize: streamChunkBytes }), budget, options.packed, sink)
}

/// The whole output in one call, or undefined when zlib refuses (more than `cap` bytes, truncated or
/// corrupt): the caller then streams, which keeps the partial output and the reason.
function oneCall (packed: Uint8Array, cap: number, sizeHint: number | undefined): { output: Uint8Array, consumed: number } | undefined {
  // One byte more than the declared size: zlib then ends with room to spare in its first buffer and
  // hands it back as it is, where an exactly full buffer makes it allocate a second one and concatenate.
  const first = sizeHint !== undefined && sizeHint > 0 && sizeHint <= cap ? sizeHint + 1 : Math.min(defaultFirstChunk, cap)
  try {
    // info: true gives the engine, whose bytesWritten is the deflate stream's length.
    const { buffer, engine } = inflateRawSync(packed, { info: true, maxOutputLength: cap, chunkSize: Math.max(64, first) }) as unknown as { buffer: Buffer, engine: { bytesWritten: number } }
    return { output: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length), consumed: engine.bytesWritten }
  } catch {
    return undefined
  }
}
