/// CompiledDb: the whole compiled signature database as named typed-array sections in ONE
/// SharedArrayBuffer, plus small plain metadata. Posting it to a worker shares the memory (structured
/// clone of a SharedArrayBuffer is by reference), so N workers map one copy.
import type { LoadStats } from '../signatures/types.js'

export type SectionType = 'u8' | 'i32' | 'u32'

export interface Section { readonly type: SectionType, readonly offset: number, readonly length: number }

export interface DbParams {
  /// log2 of the anchor Bloom bitmap size in bits, and of the anchor bucket-head table.
  readonly gramBits: number
  readonly headBits: number
  /// Longest fixed part of any body pattern: the bytes a stream keeps across chunk boundaries.
  readonly maxPartLen: number
  readonly hasShortAnchors: boolean
  /// Per hash algorithm: whether a size-`*` signature exists, and the size-set / table sizes (log2).
  readonly hashAnySize: readonly [boolean, boolean, boolean]
  /// .mdb/.msb PE section hashes: how many, and per algorithm whether a size-`*` one exists.
  readonly sectionHashes: number
  readonly sectionHashAnySize: readonly [boolean, boolean, boolean]
  /// Target bits of ext rules (matcher/ext.ts; 0: none) and whether any rule has target 7.
  readonly extTargets: number
  readonly textTarget: boolean
  /// [first rule id, count] of the archive-magic rules (matcher/embedded-rules.ts); absent in a DB
  /// built without them (Engine.scanLeaf then runs hasEmbeddedMagic's own passes).
  readonly embeddedRules?: readonly [number, number]
}

export interface CompiledDb {
  readonly version: string
  readonly builtAt: number
  readonly stats: LoadStats
  readonly params: DbParams
  readonly buffer: SharedArrayBuffer
  readonly sections: Readonly<Record<string, Section>>
}

export type Views = Readonly<Record<string, Int32Array | Uint32Array | Uint8Array>>

type Array = Int32Array | Uint32Array | Uint8Array

function typeOf (a: Array): SectionType {
  return a instanceof Uint8Array ? 'u8' : a instanceof Int32Array ? 'i32' : 'u32'
}

/// Copies every array into one SharedArrayBuffer (8-byte aligned sections).
export function pack (arrays: Readonly<Record<string, Array>>): { buffer: SharedArrayBuffer, sections: Record<string, Section> } {
  let total = 0
  const sections: Record<string, Section> = {}
  for (const [name, a] of Object.entries(arrays)) {
    sections[name] = { type: typeOf(a), offset: total, length: a.length }
    total += Math.ceil(a.byteLength / 8) * 8
  }
  const buffer = new SharedArrayBuffer(Math.max(8, total))
  const bytes = new Uint8Array(buffer)
  for (const [name, a] of Object.entries(arrays)) {
    const s = sections[name]
    if (s !== undefined) bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), s.offset)
  }
  return { buffer, sections }
}

/// Typed views on the sections (no copy).
export function views (db: Pick<CompiledDb, 'buffer' | 'sections'>): Views {
  const out: Record<string, Array> = {}
  for (const [name, s] of Object.entries(db.sections)) {
    out[name] = s.type === 'u8'
      ? new Uint8Array(db.buffer, s.offset, s.length)
      : s.type === 'i32' ? new Int32Array(db.buffer, s.offset, s.length) : new Uint32Array(db.buffer, s.offset, s.length)
  }
  return out
}
