/// xz via npm xz-decompress (XZ Embedded compiled to WebAssembly, streaming): every output chunk is
/// accounted before it is kept, and reading stops at a limit or a cancel.
import xzDecompress from 'xz-decompress'
import type * as XzTypes from 'xz-decompress'

// CommonJS package: its named export is reached through the default import at run time.
const { XzReadableStream } = xzDecompress as unknown as typeof XzTypes
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { ChildSink } from './sink.js'

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

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  const sink = new ChildSink(budget, source.size)
  const reader = new XzReadableStream(webStream(source)).getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done || !budget.alive() || !sink.write(value, true)) break
    }
  } catch {
    // truncated or corrupt: scan what decoded so far
  } finally {
    await reader.cancel().catch(() => {})
  }
  const layer = sink.layer('xz-content')
  if (layer !== undefined) yield layer
}

export const xzHandler: FormatHandler = { type: 'xz', extract }
