/// LHA/LZH (-lh0- … -lh7-). 7-Zip in wasm (npm 7z-wasm, see sevenzip.ts) decodes -lh0- and -lh4-
/// to -lh7-: no maintained pure-JS decoder exists for those, and 7-Zip's is the reference one.
/// It has no -lh1- (LHarc 1.x, still met in old archives and in ClamAV's tests), which lzh-lh1.ts
/// decodes: an archive holding -lh1- members is read by our own header walk (lzh-headers.ts), its
/// stored and -lh1- members extracted here, and only any other members left to 7-Zip.
/// -lh2- and -lh3- (LHarc 2 test releases) are decoded by neither. Limits hold per 64 KiB of output.
import type { FormatHandler, HandlerEnv, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { sevenZipHandler } from './sevenzip.js'
import { SliceSource } from './slice.js'
import { ChildSink } from './sink.js'
import { lzhMembers, type LzhMember } from './lzh-headers.js'
import { decodeLh1 } from './lzh-lh1.js'

const bySevenZip = sevenZipHandler('lzh', 'LZH')
const stored = new Set(['lh0', 'lz4'])
const ours = new Set([...stored, 'lh1', 'lhd'])

async function own (source: ByteSource, m: LzhMember, budget: ScanBudget): Promise<Layer | undefined> {
  if (stored.has(m.method)) {
    if (!budget.admits(m.packed) || !budget.consume(Math.min(m.packed, source.size - m.data), 0)) return undefined
    return { name: m.name, source: new SliceSource(source, m.data, m.packed) }
  }
  if (!budget.admits(m.size)) return undefined
  // The packed bytes are read whole (the decoder is synchronous); past twice the plain size plus a
  // margin they can only be padding or a lie, so no more is read.
  const input = await source.read(m.data, Math.min(m.packed, 2 * m.size + 4096))
  const sink = new ChildSink(budget, Math.max(1, m.packed))
  try {
    decodeLh1(input, m.size, piece => sink.write(piece) && budget.alive())
  } catch (err) {
    budget.report('Heuristics.Broken.LZH', 'broken', `${m.name}: ${err instanceof Error ? err.message : String(err)}`)
  }
  return sink.layer(m.name)
}

async function * extract (source: ByteSource, budget: ScanBudget, env: HandlerEnv): AsyncIterable<Layer> {
  const members: LzhMember[] = []
  for await (const m of lzhMembers(source, () => budget.alive())) members.push(m)
  if (!members.some(m => m.method === 'lh1')) { yield * bySevenZip.extract(source, budget, env); return }
  for (const m of members) {
    if (!budget.alive()) return
    if (m.method === 'lhd' || !ours.has(m.method) || m.packed === 0) continue
    const layer = await own(source, m, budget)
    if (layer !== undefined) yield layer
  }
  if (members.some(m => !ours.has(m.method))) yield * bySevenZip.extract(source, budget, env)
}

export const lzhHandler: FormatHandler = { type: 'lzh', extract }
