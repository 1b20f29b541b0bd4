/// Runs a streaming decoder (a node:zlib or other Transform) over input chunks into a ChildSink,
/// checking the budget on every output chunk, so a bomb stops at the limit rather than after
/// allocation, and a cancelled scan stops within one chunk.
import { Readable, type Transform } from 'node:stream'
import type { ScanBudget } from '../budget.js'
import { ChildSink } from './sink.js'

export interface DecodeResult {
  readonly sink: ChildSink
  /// Why the decoder failed (truncated or corrupt input), or undefined when the stream ended
  /// cleanly; what decoded before the failure is in the sink either way.
  readonly broken: string | undefined
  /// Input bytes the decoder consumed (node:zlib's bytesWritten): where a following member starts.
  readonly consumed: number
}

export async function decodeStream (input: AsyncIterable<Uint8Array>, decoder: Transform, budget: ScanBudget, packed?: number, into?: ChildSink): Promise<DecodeResult> {
  const sink = into ?? new ChildSink(budget, packed)
  const reader = Readable.from(input, { objectMode: false })
  let broken: string | undefined
  reader.on('error', (err: Error) => { broken ??= err.message })
  reader.pipe(decoder)
  try {
    for await (const chunk of decoder as AsyncIterable<Uint8Array>) {
      if (!budget.alive() || !sink.write(chunk)) break
    }
  } catch (err) {
    broken ??= err instanceof Error ? err.message : String(err) // truncated or corrupt: scan what decoded so far, as ClamAV does
  } finally {
    reader.unpipe(decoder)
    reader.destroy()
    decoder.destroy()
  }
  const consumed = (decoder as Transform & { bytesWritten?: number }).bytesWritten ?? 0
  return { sink, broken, consumed }
}
