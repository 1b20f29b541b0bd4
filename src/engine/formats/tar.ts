/// tar: ustar, POSIX pax (per-file path/size records) and GNU (././@LongLink names, base-256
/// sizes), and v7. Own parser: the format is a sequence of 512-byte headers, simpler to read than to
/// adapt a streaming library to ByteSource; members are zero-copy slices of the parent.
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { SliceSource } from './slice.js'

const block = 512

function text (h: Buffer, at: number, len: number): string {
  const raw = h.subarray(at, at + len)
  const nul = raw.indexOf(0)
  return raw.toString('utf8', 0, nul === -1 ? raw.length : nul)
}

/// Octal, or GNU base-256 when the high bit of the first byte is set.
function number (h: Buffer, at: number, len: number): number {
  if (((h[at] ?? 0) & 0x80) !== 0) {
    let v = (h[at] ?? 0) & 0x7f
    for (let i = 1; i < len; i++) v = v * 256 + (h[at + i] ?? 0)
    return v
  }
  const s = text(h, at, len).trim()
  return s === '' ? 0 : parseInt(s, 8)
}

function checksumOk (h: Buffer): boolean {
  let sum = 0
  for (let i = 0; i < block; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i] ?? 0
  return sum === number(h, 148, 8)
}

/// pax extended header records: "len key=value\n".
function paxRecords (body: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of body.split('\n')) {
    const m = /^\d+ ([^=]+)=(.*)$/.exec(line)
    if (m?.[1] !== undefined && m[2] !== undefined) out.set(m[1], m[2])
  }
  return out
}

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  let at = 0
  let longName: string | undefined
  let pax = new Map<string, string>()
  let n = 0
  while (at + block <= source.size) {
    if (!budget.alive()) return
    const raw = await source.read(at, block)
    const h = Buffer.from(raw.buffer, raw.byteOffset, raw.length)
    if (h.every(b => b === 0)) return // end-of-archive blocks
    if (!checksumOk(h)) {
      // A wrong checksum on a header that otherwise reads as ustar is damage, not the end: read on.
      budget.report('Heuristics.Broken.Tar', 'broken', `header checksum mismatch at offset ${at}`)
      if (h.toString('latin1', 257, 262) !== 'ustar') return
    }
    const kind = String.fromCharCode(h[156] ?? 0)
    const size = Number(pax.get('size') ?? number(h, 124, 12))
    const data = at + block
    const next = data + Math.ceil(size / block) * block
    if (!Number.isFinite(size) || size < 0) return
    if (kind === 'L' || kind === 'x' || kind === 'g') {
      // Metadata for the next member; bounded so a hostile header cannot make us read megabytes.
      const body = Buffer.from(await source.read(data, Math.min(size, 1 << 20))).toString('utf8')
      if (kind === 'L') longName = body.replace(/\0.*$/s, '')
      else if (kind === 'x') pax = paxRecords(body)
      at = next
      continue
    }
    const prefix = h.toString('latin1', 257, 262) === 'ustar' ? text(h, 345, 155) : ''
    const name = pax.get('path') ?? longName ?? (prefix !== '' ? `${prefix}/${text(h, 0, 100)}` : text(h, 0, 100))
    longName = undefined
    pax = new Map()
    // Regular files ('0', NUL, contiguous '7'); links, directories and devices carry no data.
    if ((kind === '0' || kind === '\0' || kind === '7') && size > 0) {
      if (budget.admits(size) && budget.consume(Math.min(size, source.size - data), 0)) {
        if (data + size > source.size) budget.report('Heuristics.Broken.Tar', 'broken', `${name} truncated: ${size} bytes declared, ${source.size - data} present`)
        yield { name: name !== '' ? name : `tar-member-${n}`, source: new SliceSource(source, data, size) }
      } else if (!budget.alive()) return
    }
    n++
    at = next
  }
}

export const tarHandler: FormatHandler = { type: 'tar', extract }
