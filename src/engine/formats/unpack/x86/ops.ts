/// One x86 instruction, decoded and executed on a Cpu: prefixes, the one-byte opcode map (ops-0f.ts
/// has the two-byte map). An opcode outside what is implemented raises an illegal-instruction
/// exception, as the hardware would for a truly invalid one, so a stub that needs something missing
/// stops cleanly instead of running on wrong.
import type { Cpu } from './cpu.js'
import { CpuException, EAX, ECX, EDX, ESP, EBP, breakpoint, divideByZero, illegalInstruction, signExtend, trunc, type Width } from './cpu.js'
import { step0f } from './ops-0f.js'
import { stringOp } from './strings.js'
import { divide, multiply } from './muldiv.js'

export function step (cpu: Cpu): void {
  cpu.start = cpu.eip
  cpu.opSize = 4
  cpu.segBase = 0
  cpu.rep = 0
  let op = cpu.fetch8()
  for (let prefixes = 0; ; prefixes++) {
    if (prefixes > 14) throw new CpuException(illegalInstruction, cpu.start)
    if (op === 0x66) cpu.opSize = 2
    else if (op === 0xf3) cpu.rep = 1
    else if (op === 0xf2) cpu.rep = 2
    else if (op === 0x64) cpu.segBase = cpu.fsBase
    else if (op !== 0x2e && op !== 0x3e && op !== 0x26 && op !== 0x36 && op !== 0x65 && op !== 0xf0 && op !== 0x67) break
    op = cpu.fetch8()
  }
  const v: Width = cpu.opSize
  const jump = (rel: number): void => { cpu.eip = (cpu.eip + rel) >>> 0 }
  if (op < 0x40 && (op & 7) < 6) {
    const alu = op >> 3
    const w: Width = (op & 1) === 0 ? 1 : v
    switch (op & 7) {
      case 0: case 1: { cpu.modrm(); const res = cpu.alu(alu, cpu.readRm(w), cpu.reg(cpu.modReg, w), w); if (alu !== 7) cpu.writeRm(w, res); return }
      case 2: case 3: { cpu.modrm(); const res = cpu.alu(alu, cpu.reg(cpu.modReg, w), cpu.readRm(w), w); if (alu !== 7) cpu.setReg(cpu.modReg, w, res); return }
      default: { const res = cpu.alu(alu, cpu.reg(EAX, w), cpu.fetchImm(w), w); if (alu !== 7) cpu.setReg(EAX, w, res); return }
    }
  }
  if (op >= 0x40 && op <= 0x4f) { const i = op & 7; cpu.setReg(i, v, cpu.incDec(cpu.reg(i, v), v, op >= 0x48)); return }
  if (op >= 0x50 && op <= 0x57) { cpu.push(cpu.r[op & 7]!); return }
  if (op >= 0x58 && op <= 0x5f) { const x = cpu.pop(); cpu.r[op & 7] = x; return }
  if (op >= 0x70 && op <= 0x7f) { const rel = (cpu.fetch8() << 24) >> 24; if (cpu.condition(op & 0xf)) jump(rel); return }
  if (op >= 0x90 && op <= 0x97) { const i = op & 7; const t = cpu.reg(i, v); cpu.setReg(i, v, cpu.reg(EAX, v)); cpu.setReg(EAX, v, t); return }
  if (op >= 0xb0 && op <= 0xb7) { cpu.setReg(op & 7, 1, cpu.fetch8()); return }
  if (op >= 0xb8 && op <= 0xbf) { cpu.setReg(op & 7, v, cpu.fetchImm(v)); return }
  switch (op) {
    case 0x0f: step0f(cpu); return
    case 0x60: { const sp = cpu.r[ESP]!; for (let i = 0; i < 8; i++) cpu.push(i === ESP ? sp : cpu.r[i]!); return }
    case 0x61: { for (let i = 7; i >= 0; i--) { const x = cpu.pop(); if (i !== ESP) cpu.r[i] = x } return }
    case 0x68: cpu.push(cpu.fetch32()); return
    case 0x6a: cpu.push(((cpu.fetch8() << 24) >> 24) >>> 0); return
    case 0x69: case 0x6b: {
      cpu.modrm()
      const a = signExtend(cpu.readRm(v), v)
      const b = op === 0x6b ? (cpu.fetch8() << 24) >> 24 : signExtend(cpu.fetchImm(v), v)
      const full = v === 4 ? Number(BigInt(a) * BigInt(b)) : a * b
      const res = trunc(v === 4 ? Math.imul(a, b) : full, v)
      cpu.setReg(cpu.modReg, v, res)
      cpu.cf = cpu.of = signExtend(res, v) !== full
      return
    }
    case 0x80: case 0x81: case 0x82: case 0x83: {
      const w: Width = op === 0x81 || op === 0x83 ? v : 1
      cpu.modrm()
      const imm = op === 0x81 ? cpu.fetchImm(v) : op === 0x83 ? trunc((cpu.fetch8() << 24) >> 24, w) : cpu.fetch8()
      const res = cpu.alu(cpu.modReg, cpu.readRm(w), imm, w)
      if (cpu.modReg !== 7) cpu.writeRm(w, res)
      return
    }
    case 0x84: case 0x85: { const w: Width = op === 0x84 ? 1 : v; cpu.modrm(); cpu.alu(4, cpu.readRm(w), cpu.reg(cpu.modReg, w), w); return }
    case 0x86: case 0x87: {
      const w: Width = op === 0x86 ? 1 : v
      cpu.modrm()
      const t = cpu.readRm(w)
      cpu.writeRm(w, cpu.reg(cpu.modReg, w))
      cpu.setReg(cpu.modReg, w, t)
      return
    }
    case 0x88: case 0x89: { const w: Width = op === 0x88 ? 1 : v; cpu.modrm(); cpu.writeRm(w, cpu.reg(cpu.modReg, w)); return }
    case 0x8a: case 0x8b: { const w: Width = op === 0x8a ? 1 : v; cpu.modrm(); cpu.setReg(cpu.modReg, w, cpu.readRm(w)); return }
    case 0x8c: cpu.modrm(); cpu.writeRm(2, cpu.modReg === 4 ? 0x3b : 0x23); return // mov r/m, sreg: fs or a flat selector
    case 0x8e: cpu.modrm(); cpu.readRm(2); return
    case 0x8d: { const seg = cpu.segBase; cpu.segBase = 0; cpu.modrm(); cpu.segBase = seg; cpu.setReg(cpu.modReg, v, cpu.modAddr); return }
    case 0x8f: { const x = cpu.pop(); cpu.modrm(); cpu.writeRm(4, x); return }
    case 0x98: if (v === 4) cpu.r[EAX] = signExtend(cpu.r[EAX]! & 0xffff, 2) >>> 0; else cpu.setReg(EAX, 2, signExtend(cpu.r[EAX]! & 0xff, 1)); return
    case 0x99: cpu.r[EDX] = (cpu.r[EAX]! & 0x80000000) !== 0 ? 0xffffffff : 0; return
    case 0x9b: return // wait
    case 0x9c: cpu.push(cpu.eflags); return
    case 0x9d: cpu.eflags = cpu.pop(); return
    case 0x9e: cpu.eflags = (cpu.eflags & ~0xff) | cpu.reg(4, 1); return
    case 0x9f: cpu.setReg(4, 1, cpu.eflags & 0xff); return
    case 0xa0: case 0xa1: { const w: Width = op === 0xa0 ? 1 : v; cpu.setReg(EAX, w, cpu.mem.read((cpu.fetch32() + cpu.segBase) >>> 0, w)); return }
    case 0xa2: case 0xa3: { const w: Width = op === 0xa2 ? 1 : v; cpu.mem.write((cpu.fetch32() + cpu.segBase) >>> 0, w, cpu.reg(EAX, w)); return }
    case 0xa8: cpu.alu(4, cpu.reg(EAX, 1), cpu.fetch8(), 1); return
    case 0xa9: cpu.alu(4, cpu.reg(EAX, v), cpu.fetchImm(v), v); return
    case 0xa4: case 0xa5: case 0xa6: case 0xa7: case 0xaa: case 0xab: case 0xac: case 0xad: case 0xae: case 0xaf:
      stringOp(cpu, op, (op & 1) === 0 ? 1 : v); return
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
      const w: Width = (op & 1) === 0 ? 1 : v
      cpu.modrm()
      const x = cpu.readRm(w)
      const count = op <= 0xc1 ? cpu.fetch8() : op <= 0xd1 ? 1 : cpu.r[ECX]! & 0xff
      cpu.writeRm(w, cpu.shift(cpu.modReg, x, count, w))
      return
    }
    case 0xc2: { const n = cpu.fetch16(); cpu.eip = cpu.pop(); cpu.r[ESP] = (cpu.r[ESP]! + n) >>> 0; return }
    case 0xc3: cpu.eip = cpu.pop(); return
    case 0xc6: case 0xc7: { const w: Width = op === 0xc6 ? 1 : v; cpu.modrm(); cpu.writeRm(w, cpu.fetchImm(w)); return }
    case 0xc8: { const size = cpu.fetch16(); cpu.fetch8(); cpu.push(cpu.r[EBP]!); cpu.r[EBP] = cpu.r[ESP]!; cpu.r[ESP] = (cpu.r[ESP]! - size) >>> 0; return }
    case 0xc9: cpu.r[ESP] = cpu.r[EBP]!; cpu.r[EBP] = cpu.pop(); return
    case 0xcc: throw new CpuException(breakpoint, cpu.start)
    case 0xd7: cpu.setReg(EAX, 1, cpu.mem.read8((cpu.r[3]! + (cpu.r[EAX]! & 0xff) + cpu.segBase) >>> 0)); return
    case 0xe0: case 0xe1: case 0xe2: {
      const rel = (cpu.fetch8() << 24) >> 24
      cpu.r[ECX] = (cpu.r[ECX]! - 1) >>> 0
      if (cpu.r[ECX] !== 0 && (op === 0xe2 || (op === 0xe1 ? cpu.zf : !cpu.zf))) jump(rel)
      return
    }
    case 0xe3: { const rel = (cpu.fetch8() << 24) >> 24; if (cpu.r[ECX] === 0) jump(rel); return }
    case 0xe8: { const rel = cpu.fetch32() | 0; cpu.push(cpu.eip); jump(rel); return }
    case 0xe9: { const rel = cpu.fetch32() | 0; jump(rel); return }
    case 0xeb: { const rel = (cpu.fetch8() << 24) >> 24; jump(rel); return }
    case 0xf5: cpu.cf = !cpu.cf; return
    case 0xf6: case 0xf7: group3(cpu, op === 0xf6 ? 1 : v); return
    case 0xf8: cpu.cf = false; return
    case 0xf9: cpu.cf = true; return
    case 0xfa: case 0xfb: case 0x90: return
    case 0xfc: cpu.df = false; return
    case 0xfd: cpu.df = true; return
    case 0xfe: case 0xff: group45(cpu, op === 0xfe ? 1 : v); return
    default: throw new CpuException(illegalInstruction, cpu.start)
  }
}

function group3 (cpu: Cpu, w: Width): void {
  cpu.modrm()
  const x = cpu.readRm(w)
  switch (cpu.modReg) {
    case 0: case 1: cpu.alu(4, x, cpu.fetchImm(w), w); return
    case 2: cpu.writeRm(w, trunc(~x, w)); return
    case 3: { const res = cpu.alu(5, 0, x, w); cpu.cf = x !== 0; cpu.writeRm(w, res); return }
    case 4: case 5: multiply(cpu, x, w, cpu.modReg === 5); return
    default: if (!divide(cpu, x, w, cpu.modReg === 7)) throw new CpuException(divideByZero, cpu.start)
  }
}

function group45 (cpu: Cpu, w: Width): void {
  cpu.modrm()
  switch (cpu.modReg) {
    case 0: case 1: cpu.writeRm(w, cpu.incDec(cpu.readRm(w), w, cpu.modReg === 1)); return
    case 2: { const target = cpu.readRm(4); cpu.push(cpu.eip); cpu.eip = target; return }
    case 4: cpu.eip = cpu.readRm(4); return
    case 6: cpu.push(cpu.readRm(4)); return
    default: throw new CpuException(illegalInstruction, cpu.start)
  }
}
