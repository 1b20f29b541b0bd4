/// The x86 string instructions (MOVS, CMPS, STOS, LODS, SCAS) with REP/REPE/REPNE: ESI/EDI step by the
/// operand width, backwards when DF is set; a repeated one runs to completion in one call, each
/// iteration charged to cpu.work so the emulator's step budget bounds REP loops too.
import { ECX, EDI, ESI, EAX, type Cpu, type Width } from './cpu.js'

export function stringOp (cpu: Cpu, op: number, w: Width): void {
  const delta = cpu.df ? -w : w
  const kind = op & 0xfe
  const compares = kind === 0xa6 || kind === 0xae
  for (;;) {
    if (cpu.rep !== 0 && (cpu.r[ECX] === 0 || cpu.work > cpu.workLimit)) return
    const src = (cpu.r[ESI]! + cpu.segBase) >>> 0
    const dst = cpu.r[EDI]!
    switch (kind) {
      case 0xa4: cpu.mem.write(dst, w, cpu.mem.read(src, w)); cpu.r[ESI] = src + delta; cpu.r[EDI] = dst + delta; break
      case 0xa6: cpu.alu(7, cpu.mem.read(src, w), cpu.mem.read(dst, w), w); cpu.r[ESI] = src + delta; cpu.r[EDI] = dst + delta; break
      case 0xaa: cpu.mem.write(dst, w, cpu.reg(EAX, w)); cpu.r[EDI] = dst + delta; break
      case 0xac: cpu.setReg(EAX, w, cpu.mem.read(src, w)); cpu.r[ESI] = src + delta; break
      default: cpu.alu(7, cpu.reg(EAX, w), cpu.mem.read(dst, w), w); cpu.r[EDI] = dst + delta
    }
    if (cpu.rep === 0) return
    cpu.work++
    cpu.r[ECX] = cpu.r[ECX]! - 1
    if (compares && (cpu.rep === 1 ? !cpu.zf : cpu.zf)) return
  }
}
