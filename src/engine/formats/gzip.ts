/// gzip (RFC 1952), multi-member, via node:zlib's streaming Gunzip: the budget is checked on every
/// output chunk, so a gzip bomb stops at the limit rather than after allocation.
import { createGunzip } from 'node:zlib'
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { decodeStream } from './stream.js'

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  const { sink } = await decodeStream(source.chunks(256 * 1024), createGunzip({ chunkSize: 64 * 1024 }), budget, source.size)
  const layer = sink.layer('gzip-content')
  if (layer !== undefined) yield layer
}

export const gzipHandler: FormatHandler = { type: 'gzip', extract }
