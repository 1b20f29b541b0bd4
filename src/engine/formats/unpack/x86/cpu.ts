/// The state of the emulated 32-bit x86 CPU (registers, flags, the ModRM operand of the instruction
/// being executed) and the arithmetic every instruction shares (ALU operations with their flags,
/// shifts, the stack). ops.ts and ops-0f.ts decode and execute instructions on it. Only what
/// unpacking stubs use is here: no FPU, no MMX/SSE, no segmentation beyond FS (the TEB), flat 4 GiB.
import type { Memory } from './memory.js'

export const EAX = 0
export const ECX = 1
export const EDX = 2
export const EBX = 3
export const ESP = 4
export const EBP = 5
export const ESI = 6
export const EDI = 7

export type Width = 1 | 2 | 4

/// A fault the program itself may handle (Windows exception codes), raised by an instruction.
export class CpuException extends Error {
  constructor (readonly code: number, readonly address: number) { super(`x86 exception 0x${code.toString(16)} at 0x${address.toString(16)}`) }
}
export const accessViolation = 0xc0000005
export const breakpoint = 0x80000003
export const singleStep = 0x80000004
export const divideByZero = 0xc0000094
export const illegalInstruction = 0xc000001d

const parity = new Uint8Array(256).map((_, i) => { let p = 1; for (let v = i; v !== 0; v >>= 1) p ^= v & 1; return p })
const masks = [0, 0xff, 0xffff, 0, 0xffffffff]
const signs = [0, 0x80, 0x8000, 0, 0x80000000]

export const trunc = (v: number, w: Width): number => w === 4 ? v >>> 0 : v & masks[w]!
export const signExtend = (v: number, w: Width): number => w === 4 ? v | 0 : w === 2 ? (v << 16) >> 16 : (v << 24) >> 24

export class Cpu {
  readonly r = new Uint32Array(8)
  eip = 0
  cf = false
  pf = false
  af = false
  zf = false
  sf = false
  tf = false
  df = false
  of = false
  fsBase = 0
  /// Iterations of repeated string instructions, charged against the step budget (workLimit), so a
  /// REP over a large buffer in a loop cannot outlast it.
  work = 0
  workLimit = Infinity
  /// Decode state of the current instruction.
  start = 0
  opSize: 2 | 4 = 4
  segBase = 0
  rep = 0 // 0 none, 1 rep/repe (F3), 2 repne (F2)
  modReg = 0
  modIsReg = false
  modRm = 0
  modAddr = 0

  constructor (readonly mem: Memory) {}

  fetch8 (): number { const v = this.mem.read8(this.eip); this.eip = (this.eip + 1) >>> 0; return v }
  fetch16 (): number { const v = this.mem.read16(this.eip); this.eip = (this.eip + 2) >>> 0; return v }
  fetch32 (): number { const v = this.mem.read32(this.eip); this.eip = (this.eip + 4) >>> 0; return v }
  fetchImm (w: Width): number { return w === 1 ? this.fetch8() : w === 2 ? this.fetch16() : this.fetch32() }

  reg (i: number, w: Width): number {
    if (w === 4) return this.r[i]!
    if (w === 2) return this.r[i]! & 0xffff
    return i < 4 ? this.r[i]! & 0xff : (this.r[i - 4]! >>> 8) & 0xff
  }

  setReg (i: number, w: Width, v: number): void {
    if (w === 4) this.r[i] = v
    else if (w === 2) this.r[i] = (this.r[i]! & 0xffff0000) | (v & 0xffff)
    else if (i < 4) this.r[i] = (this.r[i]! & 0xffffff00) | (v & 0xff)
    else this.r[i - 4] = (this.r[i - 4]! & 0xffff00ff) | ((v & 0xff) << 8)
  }

  /// Reads a ModRM byte (and SIB, displacement) into modReg / modIsReg+modRm / modAddr.
  modrm (): void {
    const b = this.fetch8()
    const mod = b >> 6
    const rm = b & 7
    this.modReg = (b >> 3) & 7
    if (mod === 3) { this.modIsReg = true; this.modRm = rm; return }
    this.modIsReg = false
    let addr = 0
    if (rm === 4) {
      const sib = this.fetch8()
      const base = sib & 7
      const index = (sib >> 3) & 7
      if (index !== 4) addr = this.r[index]! << (sib >> 6)
      if (base === 5 && mod === 0) addr += this.fetch32() | 0
      else addr += this.r[base]!
    } else if (rm === 5 && mod === 0) addr = this.fetch32()
    else addr = this.r[rm]!
    if (mod === 1) addr += (this.fetch8() << 24) >> 24
    else if (mod === 2) addr += this.fetch32() | 0
    this.modAddr = (addr + this.segBase) >>> 0
  }

  readRm (w: Width): number { return this.modIsReg ? this.reg(this.modRm, w) : this.mem.read(this.modAddr, w) }
  writeRm (w: Width, v: number): void { if (this.modIsReg) this.setReg(this.modRm, w, v); else this.mem.write(this.modAddr, w, v) }

  push (v: number): void { const sp = (this.r[ESP]! - 4) >>> 0; this.mem.write32(sp, v); this.r[ESP] = sp }
  pop (): number { const v = this.mem.read32(this.r[ESP]!); this.r[ESP] = (this.r[ESP]! + 4) >>> 0; return v }

  setResultFlags (res: number, w: Width): void {
    this.zf = res === 0
    this.sf = (res & signs[w]!) !== 0
    this.pf = parity[res & 0xff] === 1
  }

  /// ADD OR ADC SBB AND SUB XOR CMP (the /digit order of opcodes 80-83), with flags; returns the result.
  alu (op: number, a: number, b: number, w: Width): number {
    const sign = signs[w]!
    let res: number
    switch (op) {
      case 0: case 2: {
        const carry = op === 2 && this.cf ? 1 : 0
        const sum = a + b + carry
        res = trunc(sum, w)
        this.cf = sum > masks[w]!
        this.of = ((a ^ res) & (b ^ res) & sign) !== 0
        this.af = ((a ^ b ^ res) & 0x10) !== 0
        break
      }
      case 3: case 5: case 7: {
        const borrow = op === 3 && this.cf ? 1 : 0
        res = trunc(a - b - borrow, w)
        this.cf = a < b + borrow
        this.of = ((a ^ b) & (a ^ res) & sign) !== 0
        this.af = ((a ^ b ^ res) & 0x10) !== 0
        break
      }
      case 1: res = trunc(a | b, w); this.cf = this.of = false; break
      case 4: res = trunc(a & b, w); this.cf = this.of = false; break
      default: res = trunc(a ^ b, w); this.cf = this.of = false
    }
    this.setResultFlags(res, w)
    return res
  }

  incDec (v: number, w: Width, dec: boolean): number {
    const cf = this.cf
    const res = this.alu(dec ? 5 : 0, v, 1, w)
    this.cf = cf
    return res
  }

  /// ROL ROR RCL RCR SHL SHR SAL SAR (the /digit order of C0/C1/D0-D3).
  shift (op: number, v: number, count: number, w: Width): number {
    const bits = w * 8
    let n = count & 0x1f
    if (n === 0) return v
    const sign = signs[w]!
    let res = v
    switch (op) {
      case 0: n %= bits; res = trunc((v << n) | (v >>> (bits - n)), w); if (n === 0) res = v; this.cf = (res & 1) !== 0; this.of = ((res & sign) !== 0) !== this.cf; return res
      case 1: n %= bits; res = trunc((v >>> n) | (v << (bits - n)), w); if (n === 0) res = v; this.cf = (res & sign) !== 0; this.of = ((res ^ (res << 1)) & sign) !== 0; return res
      case 2: case 3: {
        n %= bits + 1
        for (let i = 0; i < n; i++) {
          if (op === 2) { const out = (res & sign) !== 0; res = trunc((res << 1) | (this.cf ? 1 : 0), w); this.cf = out } else { const out = (res & 1) !== 0; res = (res >>> 1) | (this.cf ? sign : 0); this.cf = out }
        }
        this.of = op === 2 ? ((res & sign) !== 0) !== this.cf : ((res ^ (res << 1)) & sign) !== 0
        return trunc(res, w)
      }
      case 4: case 6:
        this.cf = n <= bits && ((v >>> (bits - n)) & 1) !== 0
        res = n >= 32 ? 0 : trunc(v << n, w)
        this.of = ((res & sign) !== 0) !== this.cf
        break
      case 5:
        this.cf = ((v >>> (n - 1)) & 1) !== 0
        res = v >>> n
        this.of = (v & sign) !== 0
        break
      default: {
        const s = signExtend(v, w)
        this.cf = ((s >> (n - 1)) & 1) !== 0
        res = trunc(s >> n, w)
        this.of = false
      }
    }
    this.setResultFlags(res, w)
    return res
  }

  condition (cc: number): boolean {
    let r: boolean
    switch (cc >> 1) {
      case 0: r = this.of; break
      case 1: r = this.cf; break
      case 2: r = this.zf; break
      case 3: r = this.cf || this.zf; break
      case 4: r = this.sf; break
      case 5: r = this.pf; break
      case 6: r = this.sf !== this.of; break
      default: r = this.zf || this.sf !== this.of
    }
    return (cc & 1) === 1 ? !r : r
  }

  get eflags (): number {
    return 0x202 | (this.cf ? 1 : 0) | (this.pf ? 4 : 0) | (this.af ? 0x10 : 0) | (this.zf ? 0x40 : 0) | (this.sf ? 0x80 : 0) |
      (this.tf ? 0x100 : 0) | (this.df ? 0x400 : 0) | (this.of ? 0x800 : 0)
  }

  set eflags (v: number) {
    this.cf = (v & 1) !== 0; this.pf = (v & 4) !== 0; this.af = (v & 0x10) !== 0; this.zf = (v & 0x40) !== 0
    this.sf = (v & 0x80) !== 0; this.tf = (v & 0x100) !== 0; this.df = (v & 0x400) !== 0; this.of = (v & 0x800) !== 0
  }
}
