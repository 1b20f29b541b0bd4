/// Runs the unpackers that apply to one executable layer (PE or ELF) and yields what they rebuilt as
/// child layers, so signatures written for the original program match inside the packed one. Each
/// unpacker gets the whole file in memory (capped: a packed program larger than maxUnpackInput is
/// scanned as it is) and an output limit from the budget; cheap marker checks decide which run, so an
/// ordinary program costs one pass of indexOf over its head and last section.
import { MemorySource, type ByteSource } from '../../source.js'
import type { ScanBudget } from '../../budget.js'
import type { Layer } from '../registry.js'
import { readExecutable } from '../../executable/read.js'
import type { ExecutableInfo } from '../../executable/types.js'
import { findAutoIt, unpackAutoIt } from './autoit.js'
import { unpackInstallShield } from './installshield.js'
import { looksUpx, unpackUpxElf, unpackUpxPe } from './upx.js'
import type { Unpacked } from './unpacker.js'

/// Packed programs are small (the packers target executables, not data); 64 MiB keeps the copy in
/// memory bounded while covering large AutoIt and installer stubs.
const maxUnpackInput = 64 * 1024 * 1024

function runUnpackers (bytes: Uint8Array, info: ExecutableInfo, limit: number): Unpacked[] {
  const found: Unpacked[] = []
  const add = (result: Unpacked[] | string): void => { if (typeof result !== 'string') found.push(...result) }
  if (looksUpx(bytes.subarray(0, 4096))) {
    const image = info.format === 'pe' ? unpackUpxPe(bytes, info, limit) : unpackUpxElf(bytes, limit)
    add(typeof image === 'string' ? image : [{ name: `upx-${image.method}`, bytes: image.bytes }])
  }
  if (info.format === 'pe') {
    const last = info.sections.reduce((from, s) => s.rawSize > 0 ? Math.max(from, s.rawOffset) : from, 0)
    const at = findAutoIt(bytes, last)
    if (at !== -1) add(unpackAutoIt(bytes, at, limit))
    if (info.overlayOffset < bytes.length) add(unpackInstallShield(bytes, info.overlayOffset, limit))
  }
  return found
}

export async function * unpackExecutable (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  if (source.size > maxUnpackInput) return
  const bytes = await source.read(0, source.size)
  const info = readExecutable(bytes)
  if (info === undefined) return
  const limit = Math.max(0, Math.min(budget.limits.maxFileBytes, budget.limits.maxScanBytes - budget.bytes))
  for (const child of runUnpackers(bytes, info, limit)) {
    if (!budget.admits(child.bytes.length) || !budget.consume(child.bytes.length, 0)) return
    yield { name: child.name, source: new MemorySource(child.bytes) }
  }
}
