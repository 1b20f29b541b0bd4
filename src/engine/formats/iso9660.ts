/// ISO 9660 images: every file of every directory tree, primary (plain ISO 9660) and supplementary
/// (Joliet, ISO 9660:1999). Own parser (ECMA-119 directory records), members are zero-copy slices.
/// 7-Zip, which read ISOs before, lists one tree only (Joliet when present): an image whose Joliet
/// tree omits a file the primary tree lists hid that file (ClamAV's iso_no_joliet test). Files are
/// deduplicated by extent, as the trees of one image share their data. An image in which no tree
/// names a file (UDF-only discs with an empty bridge) still goes to 7-Zip (npm 7z-wasm).
import type { FormatHandler, HandlerEnv, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { SliceSource } from './slice.js'
import { sevenZipHandler } from './sevenzip.js'

const sector = 2048
const firstDescriptor = 16
/// Volume descriptors read before giving up on the terminator, and directories walked per image:
/// a hostile image cannot make the walk loop or grow without bound.
const maxDescriptors = 64
const maxDirectories = 100_000

interface Tree { readonly block: number, readonly root: Buffer, readonly joliet: boolean }
interface Directory { readonly extent: number, readonly length: number, readonly path: string }

async function trees (source: ByteSource): Promise<Tree[]> {
  const out: Tree[] = []
  for (let i = firstDescriptor; i < firstDescriptor + maxDescriptors; i++) {
    const vd = Buffer.from(await source.read(i * sector, sector))
    if (vd.length < 190 || vd.toString('latin1', 1, 6) !== 'CD001' || vd[0] === 255) break
    if (vd[0] !== 1 && vd[0] !== 2) continue
    const block = vd.readUInt16LE(128)
    // Joliet: escape sequences %/@, %/C or %/E (UCS-2 levels 1-3) in a supplementary descriptor.
    const joliet = vd[0] === 2 && vd[88] === 0x25 && vd[89] === 0x2f && [0x40, 0x43, 0x45].includes(vd[90] as number)
    out.push({ block: block === 0 ? sector : block, root: vd.subarray(156, 190), joliet })
  }
  // Joliet first: its names are the ones users gave (the primary tree has 8.3 upper case unless
  // Rock Ridge names it); a file both trees list is taken once, under the first name seen.
  return out.sort((a, b) => Number(b.joliet) - Number(a.joliet))
}

/// A Rock Ridge alternate name (NM entries of the record's system use area, IEEE P1282), if any.
function rockRidgeName (rec: Buffer): string | undefined {
  const nameLength = rec[32] as number
  let name: string | undefined
  for (let at = 33 + nameLength + (nameLength % 2 === 0 ? 1 : 0); at + 4 <= rec.length;) {
    const length = rec[at + 2] as number
    if (length < 4 || at + length > rec.length) break
    if (rec[at] === 0x4e && rec[at + 1] === 0x4d && length > 5) name = (name ?? '') + rec.toString('latin1', at + 5, at + length)
    at += length
  }
  return name
}

function recordName (rec: Buffer, joliet: boolean): string {
  const raw = rec.subarray(33, 33 + (rec[32] as number))
  const rr = joliet ? undefined : rockRidgeName(rec)
  if (rr !== undefined) return rr
  const name = joliet ? Buffer.from(raw).swap16().toString('utf16le') : raw.toString('latin1')
  return name.replace(/;\d+$/, '').replace(/\.$/, '')
}

/// Files of one tree as (name, start, length), directories walked breadth first, each once.
async function * files (source: ByteSource, tree: Tree, seen: Set<number>, budget: ScanBudget): AsyncIterable<{ name: string, start: number, length: number }> {
  const queue: Directory[] = [{ extent: tree.root.readUInt32LE(2), length: tree.root.readUInt32LE(10), path: '' }]
  for (let walked = 0; queue.length > 0 && walked < maxDirectories; walked++) {
    if (!budget.alive()) return
    const dir = queue.shift() as Directory
    if (seen.has(dir.extent)) continue
    seen.add(dir.extent)
    const start = dir.extent * tree.block
    const data = Buffer.from(await source.read(start, Math.min(dir.length, 16 << 20)))
    for (let at = 0; at < data.length;) {
      const length = data[at] as number
      // A zero length pads to the next sector: records never cross one.
      if (length === 0) { at = (Math.floor(at / sector) + 1) * sector; continue }
      if (length < 34 || at + length > data.length) break
      const rec = data.subarray(at, at + length)
      at += length
      const nameLength = rec[32] as number
      if (nameLength === 1 && (rec[33] === 0 || rec[33] === 1)) continue // "." and ".."
      const name = `${dir.path}${recordName(rec, tree.joliet)}`
      const extent = rec.readUInt32LE(2)
      const size = rec.readUInt32LE(10)
      if (((rec[25] as number) & 0x02) !== 0) queue.push({ extent, length: size, path: `${name}/` })
      else if (size > 0) yield { name, start: extent * tree.block, length: size }
    }
  }
}

const bySevenZip = sevenZipHandler('iso9660', 'ISO')

async function * extract (source: ByteSource, budget: ScanBudget, env: HandlerEnv): AsyncIterable<Layer> {
  const taken = new Set<string>()
  for (const tree of await trees(source)) {
    for await (const f of files(source, tree, new Set(), budget)) {
      const key = `${f.start}:${f.length}`
      if (taken.has(key)) continue
      taken.add(key)
      if (f.start + f.length > source.size) budget.report('Heuristics.Broken.ISO', 'broken', `${f.name}: extent past the end of the image`)
      if (!budget.admits(f.length) || !budget.consume(Math.max(0, Math.min(f.length, source.size - f.start)), 0)) {
        if (!budget.alive()) return
        continue
      }
      yield { name: f.name, source: new SliceSource(source, f.start, f.length) }
    }
  }
  if (taken.size === 0) yield * bySevenZip.extract(source, budget, env)
}

export const iso9660Handler: FormatHandler = { type: 'iso9660', extract }
