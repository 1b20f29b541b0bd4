/// PDF (ISO 32000-1 §7.3.8, §7.4): every stream object decoded through its filter chain
/// (FlateDecode, ASCIIHexDecode, ASCII85Decode, LZWDecode, RunLengthDecode); image codecs (DCT, JPX,
/// JBIG2, CCITT) end the chain and the bytes are scanned as they are. Encrypted documents
/// (/Encrypt in the trailer) are reported as Heuristics.Encrypted.PDF and their streams scanned raw.
/// Hand-written: pdf.js and friends render pages; scanning needs only the object scan, which must
/// survive broken xref tables (so objects are found by "n g obj", as ClamAV's pdf.c does).
/// Flate uses node:zlib with maxOutputLength, so an inflate bomb stops inside zlib's own loop.
import { inflateSync, inflateRawSync, constants } from 'node:zlib'
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import { MemorySource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { lzwDecode, ascii85, asciiHex, runLength } from './pdf-filters.js'

function flate (data: Buffer, cap: number): Buffer | 'limit' {
  const options = { maxOutputLength: cap, finishFlush: constants.Z_SYNC_FLUSH }
  for (const inflate of [inflateSync, inflateRawSync]) {
    try {
      return inflate(data, options)
    } catch (err) {
      if (err instanceof RangeError) return 'limit'
    }
  }
  return data
}

function filters (dict: string): string[] {
  const m = /\/Filter\s*(\[[^\]]*\]|\/[A-Za-z0-9]+)/.exec(dict)
  if (m?.[1] === undefined) return []
  return [...m[1].matchAll(/\/([A-Za-z0-9]+)/g)].map(f => f[1] ?? '')
}

/// Applies the chain; stops at the first filter it does not decode.
function decode (data: Buffer, chain: readonly string[], cap: number): Buffer | 'limit' {
  let out = data
  for (const f of chain) {
    let next: Buffer | 'limit'
    switch (f) {
      case 'FlateDecode': case 'Fl': next = flate(out, cap); break
      case 'ASCIIHexDecode': case 'AHx': next = asciiHex(out); break
      case 'ASCII85Decode': case 'A85': next = ascii85(out); break
      case 'LZWDecode': case 'LZW': next = lzwDecode(out, cap); break
      case 'RunLengthDecode': case 'RL': next = runLength(out, cap); break
      default: return out
    }
    if (next === 'limit') return 'limit'
    out = next
  }
  return out
}

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  const bytes = Buffer.from(await source.read(0, source.size))
  const text = bytes.toString('latin1')
  if (/\/Encrypt\s+\d+\s+\d+\s+R/.test(text)) budget.report('Heuristics.Encrypted.PDF', 'encrypted')
  const obj = /(\d+)\s+(\d+)\s+obj\b/g
  for (let m = obj.exec(text); m !== null; m = obj.exec(text)) {
    if (!budget.alive()) return
    const end = text.indexOf('endobj', m.index)
    const streamAt = text.indexOf('stream', m.index)
    if (streamAt === -1 || (end !== -1 && streamAt > end)) continue
    const dict = text.slice(m.index, streamAt)
    let start = streamAt + 6
    if (text[start] === '\r') start++
    if (text[start] === '\n') start++
    const declared = /\/Length\s+(\d+)(?!\s+\d+\s+R)/.exec(dict)
    let stop = declared?.[1] !== undefined ? start + Number(declared[1]) : -1
    if (stop < start || stop > text.length || !text.slice(stop, stop + 24).includes('endstream')) stop = text.indexOf('endstream', start)
    if (stop === -1) stop = text.length
    obj.lastIndex = stop
    const raw = bytes.subarray(start, stop)
    if (raw.length === 0) continue
    const remaining = Math.max(0, Math.min(budget.limits.maxFileBytes, budget.limits.maxScanBytes - budget.bytes))
    const decoded = decode(raw, filters(dict), remaining)
    if (decoded === 'limit') { budget.consume(remaining + 1, 0); if (!budget.alive()) return; continue }
    if (!budget.consume(decoded.length, 0, raw.length)) { if (!budget.alive()) return; continue }
    yield { name: `obj-${m[1] ?? '?'}`, source: new MemorySource(decoded) }
  }
}

export const pdfHandler: FormatHandler = { type: 'pdf', extract }
