/// OLE2 compound files (doc, xls, ppt, msi, msg, Thumbs.db …): every stream is a child named by its
/// storage path, and Ole10Native streams (files packaged into a document) also yield the packaged
/// file, and PowerPoint's compressed embedded objects (ppt.ts) are inflated. VBA projects yield
/// each module's decompressed source (and Heuristics.Macro.Suspicious, see heuristics/macro.ts). Uses npm cfb (SheetJS, the reader behind xlsx): streams are slices of a file no larger than
/// the input, so there is nothing to inflate and no bomb to bound beyond the scan totals.
import * as CFB from 'cfb'
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import { MemorySource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { parsePackage } from './ole-package.js'
import { pptObjects } from './ppt.js'
import { decompressVba, parseDir, suspicious } from '../heuristics/macro.js'

const STREAM = 2
const lastRegularSector = 0xfffffff9

/// A truncated file (a cut download, a damaged copy) has lost only the sectors stored at its end, but
/// cfb refuses the whole file once a chain points past the end. Padding with zeros up to the highest
/// sector anything refers to (a FAT link, the directory and mini-FAT starts, a directory entry's
/// start) keeps the streams that are whole (found by npm run fuzz: an OLE2 file truncated after a
/// packaged file lost it). At most 8 times the input, so a lying FAT cannot make us allocate much.
function padToReferenced (b: Buffer): Buffer | undefined {
  if (b.length < 512) return undefined
  const shift = b.readUInt16LE(0x1e)
  if (shift !== 9 && shift !== 12) return undefined
  const sector = 1 << shift
  let highest = -1
  const refer = (at: number): void => {
    if (at + 4 > b.length) return
    const v = b.readUInt32LE(at)
    if (v <= lastRegularSector) highest = Math.max(highest, v)
  }
  refer(0x30)
  refer(0x3c)
  for (let i = 0; i < Math.min(b.readUInt32LE(0x2c), 109); i++) {
    const at = (b.readUInt32LE(0x4c + 4 * i) + 1) * sector
    for (let e = 0; e < sector / 4; e++) refer(at + 4 * e)
  }
  const dir = (b.readUInt32LE(0x30) + 1) * sector
  for (let at = dir; at < dir + sector; at += 128) refer(at + 0x74)
  const need = (highest + 2) * sector
  return need > b.length && need <= 8 * b.length ? Buffer.concat([b, Buffer.alloc(need - b.length)]) : undefined
}

/// The container, read as is or padded (`padded`: how many zero bytes stood in for a cut end); throws
/// cfb's error for the file as given when neither reads.
function readContainer (bytes: Buffer): { container: CFB.CFB$Container, padded: number } {
  try {
    return { container: CFB.read(bytes, { type: 'buffer' }), padded: 0 }
  } catch (err) {
    const padded = padToReferenced(bytes)
    if (padded === undefined) throw err
    try { return { container: CFB.read(padded, { type: 'buffer' }), padded: padded.length - bytes.length } } catch { throw err }
  }
}

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  let container: CFB.CFB$Container
  try {
    const read = readContainer(Buffer.from(await source.read(0, source.size)))
    container = read.container
    // Read on, but say so: the streams that reached past the cut end now hold zeros.
    if (read.padded > 0) budget.report('Heuristics.Broken.OLE2', 'broken', `truncated: ${read.padded} bytes of referenced sectors missing, read as zeros`)
  } catch (err) {
    budget.report('Heuristics.Broken.OLE2', 'broken', err instanceof Error ? err.message : String(err))
    return
  }
  yield * macros(container, budget)
  for (let i = 0; i < container.FileIndex.length; i++) {
    if (!budget.alive()) return
    const entry = container.FileIndex[i]
    if (entry === undefined || entry.type !== STREAM) continue
    const content = entry.content
    if (content === undefined || content.length === 0) continue
    const bytes = content instanceof Uint8Array ? content : Uint8Array.from(content as ArrayLike<number>)
    const name = (container.FullPaths[i] ?? entry.name).replace(/^Root Entry\//, '').replace(/\p{Cc}/gu, '')
    if (!budget.consume(bytes.length, 0)) { if (!budget.alive()) return; continue }
    yield { name, source: new MemorySource(bytes) }
    if (entry.name === '\x01Ole10Native') {
      const packaged = parsePackage(bytes.subarray(4))
      if (packaged !== undefined) yield { name: `${name}/${packaged.name}`, source: new MemorySource(packaged.data) }
    }
    if (entry.name === 'PowerPoint Document') {
      for (const obj of pptObjects(bytes, budget.limits.maxFileBytes)) {
        if (budget.consume(obj.bytes.length, 0)) yield { name: `${name}/${obj.name}`, source: new MemorySource(obj.bytes) }
        else if (!budget.alive()) return
      }
    }
  }
}

function contentOf (entry: CFB.CFB$Entry | undefined): Uint8Array | undefined {
  const content = entry?.content
  if (content === undefined || content.length === 0) return undefined
  return content instanceof Uint8Array ? content : Uint8Array.from(content as ArrayLike<number>)
}

/// Every VBA project (a storage holding a `dir` stream): module sources as children, then the
/// auto-exec + dangerous-call heuristic over them.
async function * macros (container: CFB.CFB$Container, budget: ScanBudget): AsyncIterable<Layer> {
  const byPath = new Map(container.FullPaths.map((p, i) => [p, container.FileIndex[i]]))
  for (const [path, entry] of byPath) {
    if (entry?.name !== 'dir' || !/(^|\/)VBA\/dir$/i.test(path)) continue
    const prefix = path.slice(0, -3)
    const dir = contentOf(entry)
    const decoded = dir === undefined ? undefined : decompressVba(dir, 1 << 20)
    if (decoded === undefined) continue
    const sources: string[] = []
    for (const module of parseDir(decoded)) {
      const stream = contentOf(byPath.get(prefix + module.stream))
      if (stream === undefined || module.offset >= stream.length) continue
      const source = decompressVba(stream.subarray(module.offset), budget.limits.maxFileBytes)
      if (source === undefined || !budget.consume(source.length, 0)) continue
      sources.push(source.toString('latin1'))
      yield { name: `${prefix.replace(/^Root Entry\//, '')}${module.name}.vba`, source: new MemorySource(source) }
    }
    if (suspicious(sources)) budget.report('Heuristics.Macro.Suspicious', 'heuristic')
  }
}

export const ole2Handler: FormatHandler = { type: 'ole2', extract }
