/// Zstandard via npm fzstd (pure JS, streaming): each decoded block (at most 128 KiB) is accounted in
/// the data callback, which throws to abandon the frame once the budget refuses. fzstd throws on a
/// corrupt frame and, at the final push, on one cut short: what decoded is kept and the stream is
/// reported as Heuristics.Broken.Zstd.
import { Decompress } from 'fzstd'
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { ChildSink } from './sink.js'

const refused = new Error('budget refused')

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  const sink = new ChildSink(budget, source.size)
  const zstd = new Decompress((data) => { if (!sink.write(data, true)) throw refused })
  try {
    for await (const chunk of source.chunks(64 * 1024)) {
      if (!budget.alive()) break
      zstd.push(chunk)
    }
    zstd.push(new Uint8Array(0), true)
  } catch (err) {
    // refused (a limit: the budget has it), or corrupt: scan what decoded so far
    if (err !== refused) budget.report('Heuristics.Broken.Zstd', 'broken', `zstd: ${err instanceof Error ? err.message : String(err)}`)
  }
  const layer = sink.layer('zstd-content')
  if (layer !== undefined) yield layer
}

export const zstdHandler: FormatHandler = { type: 'zstd', extract }
