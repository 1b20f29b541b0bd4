/// TNEF (winmail.dat, MS-OXTNEF): attachments' data (attAttachData) named by attAttachTitle.
/// Hand-written: a flat list of level/id/length/checksum records; node-tnef is unmaintained and
/// decodes the whole message model we do not need.
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { SliceSource } from './slice.js'

const attAttachTitle = 0x00018010
const attAttachData = 0x0006800f
const attAttachRenddata = 0x00069002 // starts a new attachment

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  let title: string | undefined
  let pending: { start: number, size: number } | undefined
  let n = 0
  const flush = (): Layer | undefined => {
    if (pending === undefined) return undefined
    const layer = { name: title ?? `attachment-${n++}`, source: new SliceSource(source, pending.start, pending.size) }
    pending = undefined
    title = undefined
    return layer
  }
  for (let at = 6; at + 9 <= source.size;) {
    if (!budget.alive()) return
    const h = Buffer.from(await source.read(at, 9))
    const id = h.readUInt32LE(1)
    const len = h.readUInt32LE(5)
    if (at + 9 + len > source.size) { budget.report('Heuristics.Broken.TNEF', 'broken', `attribute at ${at} declares ${len} bytes, ${source.size - at - 9} present`); break }
    if (id === attAttachRenddata) {
      const done = flush()
      if (done !== undefined) yield done
    } else if (id === attAttachTitle) {
      title = Buffer.from(await source.read(at + 9, Math.min(len, 1024))).toString('latin1').replace(/\0.*$/s, '')
    } else if (id === attAttachData) {
      // A second data record before the next attachment starts: keep the first as its own child
      // rather than drop it (found by npm run fuzz: a repeated record hid the EICAR before it).
      if (pending !== undefined) {
        const earlier = flush()
        if (earlier !== undefined) yield earlier
      }
      if (budget.admits(len) && budget.consume(len, 0)) pending = { start: at + 9, size: len }
      else if (!budget.alive()) return
    }
    at += 9 + len + 2
  }
  const last = flush()
  if (last !== undefined) yield last
}

export const tnefHandler: FormatHandler = { type: 'tnef', extract }
