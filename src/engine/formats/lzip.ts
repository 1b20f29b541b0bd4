/// lzip (.lz): each member is an LZMA stream (lc=3 lp=0 pb=2, with end marker) between a 6-byte
/// header and a 20-byte trailer, so it is rewrapped as an LZMA-alone stream and decoded by the 7-Zip
/// backend (no maintained JS lzip decoder exists; 7-Zip does not read .lz itself). Members are found
/// from the end, through each trailer's member size.
import type { FormatHandler, HandlerEnv, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { MemorySource } from '../source.js'

function dictionarySize (code: number): number {
  const base = 2 ** (code & 0x1f)
  return base - (base / 16) * (code >> 5)
}

/// The members' [start, end) ranges, first to last; a damaged trailer ends the search.
function members (bytes: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = []
  let end = bytes.length
  while (end >= 26) {
    const size = Number(bytes.readBigUInt64LE(end - 8))
    const start = end - size
    if (size < 26 || start < 0 || bytes.toString('latin1', start, start + 4) !== 'LZIP') break
    out.unshift([start, end])
    end = start
  }
  // A truncated file has no trailer: decode the first member up to the end of the data.
  if (out.length === 0 && bytes.toString('latin1', 0, 4) === 'LZIP') out.push([0, bytes.length + 20])
  return out
}

async function * extract (source: ByteSource, budget: ScanBudget, env: HandlerEnv): AsyncIterable<Layer> {
  const bytes = Buffer.from(await source.read(0, source.size))
  let n = 0
  for (const [start, end] of members(bytes)) {
    const header = Buffer.alloc(13, 0xff)
    header[0] = 0x5d
    header.writeUInt32LE(dictionarySize(bytes[start + 5] ?? 0), 1)
    const lzma = Buffer.concat([header, bytes.subarray(start + 6, Math.min(end - 20, bytes.length))])
    for await (const layer of env.sevenZip.extract(new MemorySource(lzma), budget, 'LZIP', `lzip-member-${n++}`)) yield layer
  }
}

export const lzipHandler: FormatHandler = { type: 'lzip', extract }
