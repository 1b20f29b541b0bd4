/// Runs the unpackers that apply to one executable layer (PE or ELF) and yields what they rebuilt as
/// child layers, so signatures written for the original program match inside the packed one. Cheap
/// checks on small reads decide first (`UPX!` in the first 4 KiB, AutoIt's marker from the last
/// section on, an InstallShield record or header at the start of the overlay, yC's stub at the entry
/// point, an entry point in a writable section for the emulated packers); only then is the
/// whole file read into memory (capped: a packed program larger than maxUnpackInput is scanned as it
/// is) and the unpackers run with an output limit from the budget. An ordinary program costs a 64 KiB
/// head read and, for a PE, one read of its last section and overlay, searched for AutoIt's marker
/// and for programs carried there whole (embedded-pe.ts: droppers, resources; ClamAV carves these too).
import { MemorySource, type ByteSource } from '../../source.js'
import type { ScanBudget } from '../../budget.js'
import type { Layer } from '../registry.js'
import { readExecutable } from '../../executable/read.js'
import type { ExecutableInfo } from '../../executable/types.js'
import { findAutoIt, unpackAutoIt } from './autoit.js'
import { carveEmbeddedPes } from './embedded-pe.js'
import { looksSelfUnpacking, unpackEmulated } from './emulated.js'
import { looksInstallShield, unpackInstallShield } from './installshield.js'
import { looksUpx, unpackUpxElf, unpackUpxPe } from './upx.js'
import type { Unpacked } from './unpacker.js'
import { looksYc, unpackYc } from './yc.js'

/// Packed programs are small (the packers target executables, not data); 64 MiB keeps the copy in
/// memory bounded while covering large AutoIt and installer stubs.
const maxUnpackInput = 64 * 1024 * 1024
const headBytes = 64 * 1024

interface Plan {
  readonly upx: boolean
  readonly autoIt: boolean
  readonly installShield: boolean
  readonly yc: boolean
  readonly emulate: boolean
  /// Programs found whole in the last section or the overlay (no unpacking needed).
  readonly carried: readonly Unpacked[]
}

function lastSectionStart (info: ExecutableInfo): number {
  return info.sections.reduce((from, s) => s.rawSize > 0 ? Math.max(from, s.rawOffset) : from, 0)
}

async function plan (source: ByteSource, head: Uint8Array): Promise<Plan> {
  const upx = looksUpx(head.subarray(0, 4096))
  const layout = readExecutable(head, source.size)
  if (layout?.format !== 'pe') return { upx, autoIt: false, installShield: false, yc: false, emulate: false, carried: [] }
  const tailFrom = lastSectionStart(layout)
  const tail = await source.read(tailFrom, source.size - tailFrom)
  const overlay = layout.overlayOffset - tailFrom
  const yc = layout.entryPoint !== undefined && layout.entryPoint >= tailFrom && looksYc(tail, layout.entryPoint - tailFrom)
  return {
    upx,
    autoIt: findAutoIt(tail, 0) !== -1,
    installShield: overlay >= 0 && overlay < tail.length && looksInstallShield(tail.subarray(overlay, overlay + 4096)),
    yc,
    emulate: !upx && !yc && looksSelfUnpacking(head, layout),
    carried: carveEmbeddedPes(tail, 'embedded-pe', tailFrom),
  }
}

/// A rebuilt image, then the programs it carries (embedded-pe.ts).
function withCarved (name: string, bytes: Uint8Array): Unpacked[] {
  return [{ name, bytes }, ...carveEmbeddedPes(bytes, name)]
}

/// `info` is undefined for an ELF whose headers readElf refuses: UPX strips section headers and its
/// ELF unpacker needs only the program headers it reads itself.
function runUnpackers (bytes: Uint8Array, info: ExecutableInfo | undefined, wanted: Plan, limit: number): Unpacked[] {
  const found: Unpacked[] = []
  const add = (result: Unpacked[] | string): void => { if (typeof result !== 'string') found.push(...result) }
  if (wanted.upx) {
    const image = info?.format === 'pe' ? unpackUpxPe(bytes, info, limit) : bytes[0] === 0x7f ? unpackUpxElf(bytes, limit) : 'not PE or ELF'
    add(typeof image === 'string' ? image : withCarved(`upx-${image.method}`, image.bytes))
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
  if (wanted.emulate) add(unpackEmulated(bytes, info, limit))
  if (wanted.installShield && info.overlayOffset < bytes.length) add(unpackInstallShield(bytes, info.overlayOffset, limit))
  return found
}

export async function * unpackExecutable (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  if (source.size > maxUnpackInput) return
  const wanted = await plan(source, await source.read(0, Math.min(source.size, headBytes)))
  const children: Unpacked[] = []
  if (wanted.upx || wanted.autoIt || wanted.installShield || wanted.yc || wanted.emulate) {
    const bytes = await source.read(0, source.size)
    const limit = Math.max(0, Math.min(budget.limits.maxFileBytes, budget.limits.maxScanBytes - budget.bytes))
    children.push(...runUnpackers(bytes, readExecutable(bytes), wanted, limit))
  }
  children.push(...wanted.carried)
  for (const child of children) {
    if (!budget.admits(child.bytes.length) || !budget.consume(child.bytes.length, 0)) return
    yield { name: child.name, source: new MemorySource(child.bytes) }
  }
}
