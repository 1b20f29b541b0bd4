/// gzip (RFC 1952), via node:zlib. Inflates in streaming mode, checking the budget on every output
/// chunk, so a gzip bomb stops at the limit rather than after allocation.
import { createGunzip } from 'node:zlib'
import { Readable } from 'node:stream'
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { MemorySource } from '../source.js'

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  const gunzip = createGunzip()
  const input = Readable.from(source.chunks(256 * 1024))
  input.pipe(gunzip)
  const parts: Uint8Array[] = []
  let size = 0
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      if (!budget.consume(chunk.length, size)) break
      parts.push(chunk)
      size += chunk.length
    }
  } catch {
    // Truncated or corrupt stream: scan what inflated so far (ClamAV does the same).
  } finally {
    input.destroy()
    gunzip.destroy()
  }
  if (size > 0) yield { name: 'gzip-content', source: new MemorySource(Buffer.concat(parts, size)) }
}

export const gzipHandler: FormatHandler = { type: 'gzip', extract }
