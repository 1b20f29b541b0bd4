/// Runs the unpackers that apply to one executable layer (PE or ELF) and yields what they rebuilt as
/// child layers, so signatures written for the original program match inside the packed one. Cheap
/// checks on small reads decide first (`UPX!` in the first 4 KiB, AutoIt's marker from the last
/// section on, an InstallShield record or header at the start of the overlay, yC's stub at the entry
/// point); only then is the
/// whole file read into memory (capped: a packed program larger than maxUnpackInput is scanned as it
/// is) and the unpackers run with an output limit from the budget. An ordinary program costs a 64 KiB
/// head read and, for a PE, one indexOf over its last section and overlay.
import { MemorySource, type ByteSource } from '../../source.js'
import type { ScanBudget } from '../../budget.js'
import type { Layer } from '../registry.js'
import { readExecutable } from '../../executable/read.js'
import type { ExecutableInfo } from '../../executable/types.js'
import { findAutoIt, unpackAutoIt } from './autoit.js'
import { looksInstallShield, unpackInstallShield } from './installshield.js'
import { looksUpx, unpackUpxElf, unpackUpxPe } from './upx.js'
import type { Unpacked } from './unpacker.js'
import { looksYc, unpackYc } from './yc.js'

/// Packed programs are small (the packers target executables, not data); 64 MiB keeps the copy in
/// memory bounded while covering large AutoIt and installer stubs.
const maxUnpackInput = 64 * 1024 * 1024
const headBytes = 64 * 1024

interface Plan { readonly upx: boolean, readonly autoIt: boolean, readonly installShield: boolean, readonly yc: boolean }

function lastSectionStart (info: ExecutableInfo): number {
  return info.sections.reduce((from, s) => s.rawSize > 0 ? Math.max(from, s.rawOffset) : from, 0)
}

async function plan (source: ByteSource, head: Uint8Array): Promise<Plan> {
  const upx = looksUpx(head.subarray(0, 4096))
  const layout = readExecutable(head, source.size)
  if (layout?.format !== 'pe') return { upx, autoIt: false, installShield: false, yc: false }
  const tailFrom = lastSectionStart(layout)
  const tail = await source.read(tailFrom, source.size - tailFrom)
  const overlay = layout.overlayOffset - tailFrom
  return {
    upx,
    autoIt: findAutoIt(tail, 0) !== -1,
    installShield: overlay >= 0 && overlay < tail.length && looksInstallShield(tail.subarray(overlay, overlay + 4096)),
    yc: layout.entryPoint !== undefined && layout.entryPoint >= tailFrom && looksYc(tail, layout.entryPoint - tailFrom),
  }
}

/// `info` is undefined for an ELF whose headers readElf refuses: UPX strips section headers and its
/// ELF unpacker needs only the program headers it reads itself.
function runUnpackers (bytes: Uint8Array, info: ExecutableInfo | undefined, wanted: Plan, limit: number): Unpacked[] {
  const found: Unpacked[] = []
  const add = (result: Unpacked[] | string): void => { if (typeof result !== 'string') found.push(...result) }
  if (wanted.upx) {
    const image = info?.format === 'pe' ? unpackUpxPe(bytes, info, limit) : bytes[0] === 0x7f ? unpackUpxElf(bytes, limit) : 'not PE or ELF'
    add(typeof image === 'string' ? image : [{ name: `upx-${image.method}`, bytes: image.bytes }])
  }
  if (info === undefined) return found
  if (wanted.autoIt) {
    const at = findAutoIt(bytes, lastSectionStart(info))
    if (at !== -1) add(unpackAutoIt(bytes, at, limit))
  }
  if (wanted.yc) {
    const decrypted = unpackYc(bytes, info)
    add(typeof decrypted === 'string' ? decrypted : [{ name: 'yc-decrypted', bytes: decrypted }])
  }
  if (wanted.installShield && info.overlayOffset < bytes.length) add(unpackInstallShield(bytes, info.overlayOffset, limit))
  return found
}

export async function * unpackExecutable (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  if (source.size > maxUnpackInput) return
  const wanted = await plan(source, await source.read(0, Math.min(source.size, headBytes)))
  if (!wanted.upx && !wanted.autoIt && !wanted.installShield && !wanted.yc) return
  const bytes = await source.read(0, source.size)
  const info = readExecutable(bytes)
  const limit = Math.max(0, Math.min(budget.limits.maxFileBytes, budget.limits.maxScanBytes - budget.bytes))
  for (const child of runUnpackers(bytes, info, wanted, limit)) {
    if (!budget.admits(child.bytes.length) || !budget.consume(child.bytes.length, 0)) return
    yield { name: child.name, source: new MemorySource(child.bytes) }
  }
}
