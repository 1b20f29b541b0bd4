/// gzip (RFC 1952), multi-member. Members are walked by hand (header, raw deflate through node:zlib by
/// inflate.ts, 8-byte trailer) rather than by node's Gunzip, because Gunzip rejects the whole stream,
/// output included, when junk follows the last member; ClamAV (and gzip -d) decode the members and
/// ignore trailing junk, and an attacker appends junk exactly to lose scanners that give up. The
/// budget is checked on every output chunk (on the whole output, capped, of a member inflated in one
/// call), so a gzip bomb stops at the limit. A truncated or corrupt member keeps what inflated and is
/// a Heuristics.Broken.GZip finding; CRCs are not checked (a bad CRC is no reason not to scan).
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { SliceSource } from './slice.js'
import { ChildSink } from './sink.js'
import { inflateRawInto } from './inflate.js'

const FHCRC = 2
const FEXTRA = 4
const FNAME = 8
const FCOMMENT = 16

/// Where a member's deflate data starts, or undefined when no gzip member header is at `at`.
async function dataStart (source: ByteSource, at: number): Promise<number | undefined> {
  const head = Buffer.from(await source.read(at, 10))
  if (head.length < 10 || head[0] !== 0x1f || head[1] !== 0x8b || head[2] !== 8) return undefined
  const flags = head[3] ?? 0
  let p = at + 10
  if ((flags & FEXTRA) !== 0) {
    const len = Buffer.from(await source.read(p, 2))
    if (len.length < 2) return undefined
    p += 2 + len.readUInt16LE(0)
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if ((flags & flag) === 0) continue
    // Zero-terminated; bounded so a missing terminator cannot make us read the whole object.
    const text = Buffer.from(await source.read(p, 64 * 1024))
    const nul = text.indexOf(0)
    if (nul === -1) return undefined
    p += nul + 1
  }
  if ((flags & FHCRC) !== 0) p += 2
  return p <= source.size ? p : undefined
}

/// The last member's ISIZE (its size modulo 2^32, from the file's last 4 bytes): the output size of a
/// one-member file, a first buffer size only (inflate.ts), never trusted as a limit.
async function declaredSize (source: ByteSource): Promise<number | undefined> {
  if (source.size < 18) return undefined
  const tail = Buffer.from(await source.read(source.size - 4, 4))
  return tail.length === 4 ? tail.readUInt32LE(0) : undefined
}

async function * extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  const sink = new ChildSink(budget, source.size)
  for (let at = 0, member = 0; at < source.size && member < 65_536; member++) {
    const start = await dataStart(source, at)
    if (start === undefined) {
      // Past the first member this is trailing junk, which gzip -d and ClamAV ignore too.
      if (member === 0) budget.report('Heuristics.Broken.GZip', 'broken', 'no gzip member header')
      break
    }
    const data = new SliceSource(source, start, source.size - start)
    const { broken, consumed } = await inflateRawInto(data, budget, { packed: source.size, into: sink, sizeHint: member === 0 ? await declaredSize(source) : undefined })
    if (broken !== undefined) { budget.report('Heuristics.Broken.GZip', 'broken', `member ${member}: ${broken}`); break }
    if (!sink.ok || !budget.alive() || consumed === 0) break
    at = start + consumed + 8
  }
  const layer = sink.layer('gzip-content')
  if (layer !== undefined) yield layer
}

export const gzipHandler: FormatHandler = { type: 'gzip', extract }
