/// Symbian installation files (SIS, EPOC release 3-6, UID3 0x10000419): each file record's data,
/// zlib-compressed unless the header's NoCompress option is set. Hand-written: no library reads the
/// format; it is a header of pointers and fixed-size file records (ClamAV's sis.c reads the same).
/// node:zlib inflates with maxOutputLength at the declared original size.
import { inflateSync } from 'node:zlib'
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import { MemorySource } from '../source.js'
import type { ScanBudget } from '../budget.js'

const release6 = 0x10003a12
const noCompress = 0x0008
const unicode = 0x0001

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  const b = Buffer.from(await source.read(0, source.size))
  if (b.length < 0x44) return
  const r6 = b.readUInt32LE(4) === release6
  const languages = b.readUInt16LE(18)
  const files = b.readUInt16LE(20)
  const options = b.readUInt16LE(36)
  let at = b.readUInt32LE(52)
  for (let f = 0; f < files && at + 28 <= b.length; f++) {
    if (!budget.alive()) return
    const record = b.readUInt32LE(at)
    if (record > 1) { budget.report('Heuristics.Broken.SIS', 'broken', `file record type ${record} not read`); return } // options/conditions: stop
    const count = record === 1 ? languages : 1
    const nameLen = b.readUInt32LE(at + 20)
    const namePtr = b.readUInt32LE(at + 24)
    const raw = b.subarray(namePtr, namePtr + nameLen)
    const dest = ((options & unicode) !== 0 ? raw.toString('utf16le') : raw.toString('latin1')).split(/[\\/]/).pop() ?? ''
    const lengths = at + 28
    const pointers = lengths + 4 * count
    const originals = pointers + 4 * count
    for (let i = 0; i < count && originals + 4 * count <= b.length; i++) {
      const len = b.readUInt32LE(lengths + 4 * i)
      const ptr = b.readUInt32LE(pointers + 4 * i)
      const original = r6 ? b.readUInt32LE(originals + 4 * i) : budget.limits.maxFileBytes
      const data = b.subarray(ptr, ptr + len)
      if (data.length === 0 || !budget.admits(original)) continue
      let bytes: Buffer = data
      if ((options & noCompress) === 0) {
        try { bytes = inflateSync(data, { maxOutputLength: Math.max(1, original) }) } catch { continue }
      }
      if (!budget.consume(bytes.length, 0)) { if (!budget.alive()) return; continue }
      yield { name: dest !== '' ? (count > 1 ? `${dest}.${i}` : dest) : `file-${f}`, source: new MemorySource(bytes) }
    }
    at = originals + (r6 ? 4 * count + 8 : 0)
  }
}

export const sisHandler: FormatHandler = { type: 'sis', extract }
