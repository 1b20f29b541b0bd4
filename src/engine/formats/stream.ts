/// Runs a streaming decoder (a node:zlib or other Transform) over input chunks into a ChildSink,
/// checking the budget on every output chunk, so a bomb stops at the limit rather than after
/// allocation, and a cancelled scan stops within one chunk.
import { Readable, type Transform } from 'node:stream'
import type { ScanBudget } from '../budget.js'
import { ChildSink } from './sink.js'

export interface DecodeResult {
  readonly sink: ChildSink
  /// The decoder failed (truncated or corrupt input); what decoded before the failure is kept.
  readonly broken: boolean
}

export async function decodeStream (input: AsyncIterable<Uint8Array>, decoder: Transform, budget: ScanBudget, packed?: number): Promise<DecodeResult> {
  const sink = new ChildSink(budget, packed)
  const reader = Readable.from(input, { objectMode: false })
  let broken = false
  reader.on('error', () => { broken = true })
  reader.pipe(decoder)
  try {
    for await (const chunk of decoder as AsyncIterable<Uint8Array>) {
      if (!budget.alive() || !sink.write(chunk)) break
    }
  } catch {
    broken = true // truncated or corrupt: scan what decoded so far, as ClamAV does
  } finally {
    reader.unpipe(decoder)
    reader.destroy()
    decoder.destroy()
  }
  return { sink, broken }
}
