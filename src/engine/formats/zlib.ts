/// zlib-wrapped deflate (RFC 1950) as found bare in HTTP bodies and PDF-less dumps, via node:zlib's
/// streaming Inflate. The detector's header check is weak (two bytes), so a stream that fails before
/// producing anything is taken for something else and yields nothing; one that fails later is a
/// damaged stream (Heuristics.Broken.Zlib) and what inflated is scanned.
import { createInflate } from 'node:zlib'
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { decodeStream } from './stream.js'

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  const { sink, broken } = await decodeStream(source.chunks(256 * 1024), createInflate({ chunkSize: 64 * 1024 }), budget, source.size)
  if (broken !== undefined && sink.size > 0) budget.report('Heuristics.Broken.Zlib', 'broken', broken)
  const layer = sink.layer('zlib-content')
  if (layer !== undefined) yield layer
}

export const zlibHandler: FormatHandler = { type: 'zlib', extract }
