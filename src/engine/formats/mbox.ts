/// mbox (RFC 4155): messages separated by "From " lines; each message becomes a child (a zero-copy
/// slice) that re-enters the walk as mail. Own parser: a line split, no library needed.
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { SliceSource } from './slice.js'

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  const text = Buffer.from(await source.read(0, source.size)).toString('latin1')
  const marks: Array<readonly [number, number]> = [] // [From line start, message start]
  const from = /^From .*$/gm
  for (let m = from.exec(text); m !== null; m = from.exec(text)) marks.push([m.index, m.index + m[0].length + 1])
  for (let i = 0; i < marks.length; i++) {
    if (!budget.alive()) return
    const start = marks[i]?.[1] ?? 0
    const stop = marks[i + 1]?.[0] ?? text.length
    if (stop > start) yield { name: `message-${i}.eml`, source: new SliceSource(source, start, stop - start) }
  }
}

export const mboxHandler: FormatHandler = { type: 'mbox', extract }
