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

/// The zstd reference decoder's default window limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT, 2^27): larger
/// windows need --long on both ends, which no mail or web content uses.
const maxWindowBytes = 128 * 1024 * 1024

/// What fzstd allocates up front for a frame (RFC 8878 §3.1.1.1): the declared content size of a
/// single-segment frame, else the window size; undefined when the header is too short to say.
/// Why: fzstd allocates it before decoding a byte, so a 2.6 KB file declaring 1.7 GB took 1.7 GB
/// of RSS (found by npm run fuzz, case zstd:1:1344). Only the first frame is checked.
function frameAllocation (h: Uint8Array): number | undefined {
  if (h.length < 6) return undefined
  const flags = h[4] ?? 0
  const single = (flags >> 5) & 1
  const fcsFlag = flags >> 6
  const dictBytes = [0, 1, 2, 4][flags & 3] ?? 0
  const fcsBytes = fcsFlag === 0 ? single : 1 << fcsFlag
  const at = 6 - single + dictBytes
  if (h.length < at + fcsBytes) return undefined
  let fcs = 0
  for (let i = fcsBytes - 1; i >= 0; i--) fcs = fcs * 256 + (h[at + i] ?? 0)
  if (fcsFlag === 1) fcs += 256
  if (single === 1) return fcs
  const descriptor = h[5] ?? 0
  const base = 2 ** (10 + (descriptor >> 3))
  return Math.max(fcs, base + (base / 8) * (descriptor & 7))
}

/// Where the first data frame starts: past skippable frames (magic 0x184D2A50-5F, a 32-bit length),
/// which carry metadata or padding and which fzstd skips itself (ClamAV's skip_prefix test).
async function firstFrame (source: ByteSource): Promise<number> {
  let at = 0
  for (let i = 0; i < 16; i++) {
    const h = Buffer.from(await source.read(at, 8))
    if (h.length < 8 || (h.readUInt32LE(0) & 0xfffffff0) !== 0x184d2a50) break
    at += 8 + h.readUInt32LE(4)
  }
  return at
}

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  const allocation = frameAllocation(await source.read(await firstFrame(source), 18))
  if (allocation !== undefined) {
    if (allocation > maxWindowBytes) { budget.report('Heuristics.Broken.Zstd', 'broken'); return }
    if (!budget.admits(allocation)) return
  }
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
