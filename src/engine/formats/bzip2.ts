/// bzip2 via npm unbzip2-stream (pure JS, streaming): output is accounted per emitted block part, and
/// input is fed 64 KiB at a time so decoding stops soon after a limit or a cancel. One bzip2 block
/// (900 KB in) bounds what a single write can produce.
import unbzip2 from 'unbzip2-stream'
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { ChildSink } from './sink.js'

/// Decodes a bzip2 stream from input chunks into a sink (also used by zip's method 12); `broken`
/// says why decoding failed (truncated or corrupt), what decoded before is kept.
export async function bunzip (input: AsyncIterable<Uint8Array>, budget: ScanBudget, packed: number): Promise<{ sink: ChildSink, broken: string | undefined }> {
  const sink = new ChildSink(budget, packed)
  const stream = unbzip2()
  let broken: string | undefined
  const fail = (err: unknown): void => { broken ??= `bzip2: ${err instanceof Error ? err.message : String(err)}` }
  stream.on('data', (d: Uint8Array) => { sink.write(d) })
  stream.on('error', fail)
  for await (const chunk of input) {
    if (broken !== undefined || !sink.ok || !budget.alive()) break
    try { stream.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)) } catch (err) { fail(err) }
  }
  if (broken === undefined && sink.ok) { try { stream.end() } catch (err) { fail(err) } }
  stream.removeAllListeners('data')
  stream.destroy?.()
  return { sink, broken }
}

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  const { sink, broken } = await bunzip(source.chunks(64 * 1024), budget, source.size)
  if (broken !== undefined) budget.report('Heuristics.Broken.BZip2', 'broken', broken)
  const layer = sink.layer('bzip2-content')
  if (layer !== undefined) yield layer
}

export const bzip2Handler: FormatHandler = { type: 'bzip2', extract }
