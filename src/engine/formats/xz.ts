/// xz via npm xz-decompress (XZ Embedded compiled to WebAssembly, streaming): every output chunk is
/// accounted before it is kept, and reading stops at a limit or a cancel. XZ Embedded rejects junk
/// after the last stream, and what it decoded is lost with the error; xz -d and ClamAV ignore such
/// junk, so a failed decode is tried again up to the last stream footer ("YZ" at a 4-byte boundary),
/// and a stream that stays broken is a Heuristics.Broken.XZ finding with what decoded kept.
import xzDecompress from 'xz-decompress'
import type * as XzTypes from 'xz-decompress'

// CommonJS package: its named export is reached through the default import at run time.
const { XzReadableStream } = xzDecompress as unknown as typeof XzTypes
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { ChildSink } from './sink.js'
import { SliceSource } from './slice.js'

function webStream (source: ByteSource): ReadableStream<Uint8Array> {
  const it = source.chunks(64 * 1024)[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull (controller) {
      const next = await it.next()
      if (next.done === true) controller.close()
      else controller.enqueue(Uint8Array.from(next.value))
    },
    async cancel () { await it.return?.() },
  })
}

async function decode (source: ByteSource, budget: ScanBudget, packed: number): Promise<{ sink: ChildSink, broken: string | undefined }> {
  const sink = new ChildSink(budget, packed)
  const reader = new XzReadableStream(webStream(source)).getReader()
  let broken: string | undefined
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done || !budget.alive() || !sink.write(value, true)) break
    }
  } catch (err) {
    broken = err instanceof Error ? err.message : String(err)
  } finally {
    await reader.cancel().catch(() => {})
  }
  return { sink, broken }
}

/// Where the last stream footer ends (its "YZ" magic closes a 4-byte-aligned stream), searched in the
/// last 64 KiB; undefined when there is none before `before`.
async function lastFooterEnd (source: ByteSource, before: number): Promise<number | undefined> {
  const from = Math.max(0, before - 64 * 1024)
  const tail = Buffer.from(await source.read(from, before - from))
  for (let at = tail.lastIndexOf('YZ', tail.length - 3, 'latin1'); at >= 10; at = tail.lastIndexOf('YZ', at - 1, 'latin1')) {
    const end = from + at + 2
    if (end % 4 === 0 && end < before) return end
  }
  return undefined
}

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  let { sink, broken } = await decode(source, budget, source.size)
  if (broken !== undefined && budget.alive()) {
    const end = await lastFooterEnd(source, source.size)
    if (end !== undefined) {
      const retry = await decode(new SliceSource(source, 0, end), budget, end)
      if (retry.sink.size >= sink.size) {
        sink.discard()
        sink = retry.sink
        broken = retry.broken
      } else retry.sink.discard()
    }
  }
  if (broken !== undefined) budget.report('Heuristics.Broken.XZ', 'broken', broken)
  const layer = sink.layer('xz-content')
  if (layer !== undefined) yield layer
}

export const xzHandler: FormatHandler = { type: 'xz', extract }
