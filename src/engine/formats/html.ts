/// HTML: data: URIs (RFC 2397) decoded from base64 or percent-encoding, each a child. Hand-written:
/// a regular expression and two decoders.
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import { MemorySource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { base64 } from './encodings.js'

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  const text = Buffer.from(await source.read(0, source.size)).toString('latin1')
  const uri = /data:([^,"'\s>]{0,200}),([^"'\s<>)]*)/gi
  let n = 0
  for (let m = uri.exec(text); m !== null; m = uri.exec(text)) {
    if (!budget.alive()) return
    const meta = (m[1] ?? '').toLowerCase()
    const payload = m[2] ?? ''
    if (payload.length < 16) continue
    const bytes = meta.endsWith(';base64') ? base64(payload) : Buffer.from(decodePercent(payload), 'latin1')
    if (!budget.consume(bytes.length, 0)) { if (!budget.alive()) return; continue }
    yield { name: `data-uri-${n++}`, source: new MemorySource(bytes) }
  }
}

function decodePercent (s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
}

export const htmlHandler: FormatHandler = { type: 'html', extract }
