/// A small bounded Windows/x86 emulator for PE unpacking stubs: the file is mapped as the loader
/// maps it (headers, sections at their addresses, imports bound to trap addresses, a TEB/PEB and a
/// stack), then its entry point runs instruction by instruction until the stub is done: it calls an
/// API other than the few it needs to unpack (winapi.ts), returns from the entry point, raises a
/// fault no SEH handler takes, or uses up its step budget. What the image holds then (the unpacked
/// sections) is what the unpacker yields. Structured exception handling is emulated (handlers on the
/// FS:[0] chain get a record and a CONTEXT, and may resume anywhere), because packers raise faults on
/// purpose to confuse debuggers; TF single-stepping raises its exception as the CPU would.
import { Cpu, CpuException, EAX, EBP, EBX, ESP, accessViolation, singleStep } from './cpu.js'
import { Memory, MemoryFault } from './memory.js'
import { step } from './ops.js'
import { WinApi, trapBase } from './winapi.js'
import type { ExecutableInfo } from '../../../executable/types.js'

export interface EmulationLimits {
  /// Instructions executed (a repeated string instruction counts once).
  readonly maxSteps: number
  /// Bytes of emulated memory: the image, the stack and what the program allocates.
  readonly maxMemory: number
  /// Called before each instruction (tests and debugging).
  readonly onStep?: (cpu: Cpu) => void
}

export interface EmulationResult {
  readonly image: Uint8Array
  /// Regions the program allocated (unpackers often decompress into one and copy from there).
  readonly allocated: readonly Uint8Array[]
  readonly steps: number
  readonly stop: string
}

const tebBase = 0x7ffd0000
const stackSize = 256 * 1024
const maxExceptions = 256
const contextSize = 0x2cc

/// CONTEXT (i386) offsets of the registers in Cpu.r order.
const contextRegs = [0xb0, 0xac, 0xa8, 0xa4, 0xc4, 0xb4, 0xa0, 0x9c]

export function emulatePe (file: Uint8Array, info: ExecutableInfo, limits: EmulationLimits): EmulationResult | string {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength)
  const pe = view.getUint32(0x3c, true)
  const optional = pe + 24
  if (info.imageBase > 0x7fff0000 || view.getUint16(optional, true) !== 0x10b) return 'not a 32-bit PE'
  const sizeOfImage = (view.getUint32(optional + 56, true) + 0xfff) & ~0xfff
  const sizeOfHeaders = Math.min(view.getUint32(optional + 60, true), file.length)
  const importRva = view.getUint32(optional + 104, true)
  if (sizeOfImage === 0 || sizeOfImage > limits.maxMemory / 2) return `SizeOfImage ${sizeOfImage} over the emulator's memory`
  const mem = new Memory(limits.maxMemory)
  const image = mem.map(info.imageBase, sizeOfImage, 'image')
  image.bytes.set(file.subarray(0, Math.min(sizeOfHeaders, sizeOfImage)))
  const align = Math.max(info.fileAlignment, 1)
  for (const s of info.sections) {
    if (s.virtualAddress >= sizeOfImage) continue
    const mapped = Math.min(Math.ceil(s.rawSize / align) * align, file.length - s.rawOffset, sizeOfImage - s.virtualAddress)
    if (mapped > 0) image.bytes.set(file.subarray(s.rawOffset, s.rawOffset + mapped), s.virtualAddress)
  }
  const api = new WinApi(mem, info.imageBase, file)
  try { if (importRva !== 0) api.bindImports(importRva) } catch { /* a mangled import table: the stub binds its own */ }
  const stackBase = overlaps(mem, 0x100000, stackSize) ? mem.freeBase(stackSize) : 0x100000
  mem.map(stackBase, stackSize, 'stack')
  const teb = mem.map(tebBase, 0x3000, 'teb').bytes
  const tebView = new DataView(teb.buffer)
  tebView.setUint32(0, 0xffffffff, true)
  tebView.setUint32(4, stackBase + stackSize, true)
  tebView.setUint32(8, stackBase, true)
  tebView.setUint32(0x18, tebBase, true)
  tebView.setUint32(0x30, tebBase + 0x1000, true)
  tebView.setUint32(0x1008, info.imageBase, true)
  for (const list of [0x200c, 0x2014, 0x201c]) { tebView.setUint32(list, tebBase + list, true); tebView.setUint32(list + 4, tebBase + list, true) }
  tebView.setUint32(0x100c, tebBase + 0x2000, true)

  const cpu = new Cpu(mem)
  cpu.fsBase = tebBase
  cpu.workLimit = limits.maxSteps
  cpu.r[ESP] = stackBase + stackSize - 0x100
  cpu.push(api.addressOf('ExitThread'))
  cpu.r[EBX] = tebBase + 0x1000
  cpu.r[EBP] = cpu.r[ESP]! + 0x40
  cpu.r[EAX] = (info.imageBase + info.entryAddress) >>> 0
  cpu.eip = cpu.r[EAX]!
  const sehReturn = api.addressOf('<seh-return>')
  const pending: number[] = []
  let exceptions = 0
  let steps = 0
  let stop = 'step budget used up'

  const raise = (code: number, address: number, resumeAt: number): string | undefined => {
    if (++exceptions > maxExceptions) return 'too many exceptions'
    const frame = mem.read32(tebBase)
    if (frame === 0xffffffff || frame === 0) return `unhandled exception 0x${code.toString(16)} at 0x${address.toString(16)}`
    const handler = mem.read32(frame + 4)
    const context = ((cpu.r[ESP]! - contextSize - 0x40) & ~0xf) >>> 0
    const record = context - 0x50
    for (let i = 0; i < contextSize; i += 4) mem.write32(context + i, 0)
    mem.write32(context, 0x1003f)
    contextRegs.forEach((at, i) => mem.write32(context + at, cpu.r[i]!))
    mem.write32(context + 0xb8, resumeAt)
    mem.write32(context + 0xc0, cpu.eflags)
    for (let i = 0; i < 0x50; i += 4) mem.write32(record + i, 0)
    mem.write32(record, code)
    mem.write32(record + 12, address)
    cpu.r[ESP] = record
    for (const arg of [0, context, frame, record, sehReturn]) cpu.push(arg)
    pending.push(context)
    cpu.eip = handler
    cpu.tf = false
    return undefined
  }

  for (; steps + cpu.work < limits.maxSteps; steps++) {
    const eip = cpu.eip
    if (api.isTrap(eip)) {
      if (eip === sehReturn) {
        const context = pending.pop()
        if (context === undefined || cpu.r[EAX] !== 0) { stop = 'an exception handler declined'; break }
        contextRegs.forEach((at, i) => { cpu.r[i] = mem.read32(context + at) })
        cpu.eip = mem.read32(context + 0xb8)
        cpu.eflags = mem.read32(context + 0xc0)
        continue
      }
    }
    limits.onStep?.(cpu)
    const tracing = cpu.tf
    let fault: string | undefined
    try {
      if (api.isTrap(eip)) {
        cpu.start = eip
        if (api.call(cpu, eip) === 'stop') { stop = `called ${api.names[(eip - trapBase) >>> 2] ?? 'an API'}`; break }
        continue
      }
      step(cpu)
      if (tracing) { cpu.tf = false; fault = raise(singleStep, cpu.eip, cpu.eip) }
    } catch (error) {
      try {
        if (error instanceof CpuException) fault = raise(error.code, error.address, error.address)
        else if (error instanceof MemoryFault) { cpu.eip = cpu.start; fault = raise(accessViolation, cpu.start, cpu.start) } else throw error
      } catch (again) {
        if (!(again instanceof MemoryFault)) throw again
        fault = 'the exception could not be delivered (stack out of memory)'
      }
    }
    if (fault !== undefined) { stop = fault; break }
  }
  return {
    image: image.bytes,
    allocated: mem.regions.filter(r => r.name === 'VirtualAlloc').map(r => r.bytes),
    steps,
    stop,
  }
}

function overlaps (mem: Memory, base: number, size: number): boolean {
  return mem.regions.some(r => base < r.base + r.bytes.length && r.base < base + size)
}
