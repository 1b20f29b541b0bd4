/// The two-byte (0F xx) opcodes stubs use: Jcc near, SETcc, CMOVcc, MOVZX/MOVSX, IMUL r, r/m, the bit
/// tests, BSF/BSR, SHLD/SHRD, XADD, CMPXCHG, BSWAP, and RDTSC/CPUID answered with fixed values (so an
/// anti-debug timing check sees a fast machine).
import { CpuException, EAX, EBX, ECX, EDX, illegalInstruction, signExtend, trunc, type Cpu, type Width } from './cpu.js'

let clock = 0x1000

export function step0f (cpu: Cpu): void {
  const op = cpu.fetch8()
  const v: Width = cpu.opSize
  if (op >= 0x80 && op <= 0x8f) { const rel = cpu.fetch32() | 0; if (cpu.condition(op & 0xf)) cpu.eip = (cpu.eip + rel) >>> 0; return }
  if (op >= 0x90 && op <= 0x9f) { cpu.modrm(); cpu.writeRm(1, cpu.condition(op & 0xf) ? 1 : 0); return }
  if (op >= 0x40 && op <= 0x4f) { cpu.modrm(); const x = cpu.readRm(v); if (cpu.condition(op & 0xf)) cpu.setReg(cpu.modReg, v, x); return }
  if (op >= 0xc8 && op <= 0xcf) {
    const x = cpu.r[op & 7]!
    cpu.r[op & 7] = ((x >>> 24) | ((x >>> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24)) >>> 0
    return
  }
  switch (op) {
    case 0x31: clock += 0x100; cpu.r[EAX] = clock; cpu.r[EDX] = 0; return
    case 0xa2: cpu.r[EAX] = 0; cpu.r[EBX] = 0x756e6547; cpu.r[EDX] = 0x49656e69; cpu.r[ECX] = 0x6c65746e; return
    case 0xb6: case 0xb7: case 0xbe: case 0xbf: {
      const w: Width = (op & 1) === 0 ? 1 : 2
      cpu.modrm()
      const x = cpu.readRm(w)
      cpu.setReg(cpu.modReg, v, trunc(op >= 0xbe ? signExtend(x, w) : x, v))
      return
    }
    case 0xaf: {
      cpu.modrm()
      const a = signExtend(cpu.reg(cpu.modReg, v), v)
      const b = signExtend(cpu.readRm(v), v)
      const res = trunc(Math.imul(a, b), v)
      cpu.setReg(cpu.modReg, v, res)
      cpu.cf = cpu.of = v === 4 ? BigInt(a) * BigInt(b) !== BigInt(res | 0) : signExtend(res, v) !== a * b
      return
    }
    case 0xa3: case 0xab: case 0xb3: case 0xbb: bitTest(cpu, (op >> 3) & 3, v, false); return
    case 0xba: bitTest(cpu, -1, v, true); return
    case 0xbc: case 0xbd: {
      cpu.modrm()
      const x = cpu.readRm(v)
      cpu.zf = x === 0
      if (x !== 0) cpu.setReg(cpu.modReg, v, op === 0xbc ? 31 - Math.clz32(x & -x) : 31 - Math.clz32(x))
      return
    }
    case 0xa4: case 0xa5: case 0xac: case 0xad: {
      cpu.modrm()
      const count = (op & 1) === 0 ? cpu.fetch8() & 31 : cpu.r[ECX]! & 31
      if (count === 0 || v !== 4) return
      const dst = cpu.readRm(4)
      const src = cpu.reg(cpu.modReg, 4)
      const res = op <= 0xa5 ? ((dst << count) | (src >>> (32 - count))) >>> 0 : ((dst >>> count) | (src << (32 - count))) >>> 0
      cpu.cf = op <= 0xa5 ? ((dst >>> (32 - count)) & 1) !== 0 : ((dst >>> (count - 1)) & 1) !== 0
      cpu.setResultFlags(res, 4)
      cpu.writeRm(4, res)
      return
    }
    case 0xc0: case 0xc1: {
      const w: Width = op === 0xc0 ? 1 : v
      cpu.modrm()
      const dst = cpu.readRm(w)
      const sum = cpu.alu(0, dst, cpu.reg(cpu.modReg, w), w)
      cpu.setReg(cpu.modReg, w, dst)
      cpu.writeRm(w, sum)
      return
    }
    case 0xb0: case 0xb1: {
      const w: Width = op === 0xb0 ? 1 : v
      cpu.modrm()
      const dst = cpu.readRm(w)
      cpu.alu(7, cpu.reg(EAX, w), dst, w)
      if (cpu.zf) cpu.writeRm(w, cpu.reg(cpu.modReg, w)); else cpu.setReg(EAX, w, dst)
      return
    }
    default: throw new CpuException(illegalInstruction, cpu.start)
  }
}

/// BT BTS BTR BTC (kind 0-3 from the opcode, or from ModRM's reg field for 0F BA with an immediate).
function bitTest (cpu: Cpu, kind: number, v: Width, immediate: boolean): void {
  cpu.modrm()
  if (immediate) kind = cpu.modReg - 4
  if (kind < 0) throw new CpuException(illegalInstruction, cpu.start)
  let bit = immediate ? cpu.fetch8() : cpu.reg(cpu.modReg, v)
  if (!cpu.modIsReg && !immediate) {
    const signedBit = signExtend(bit, v)
    cpu.modAddr = (cpu.modAddr + Math.floor(signedBit / 32) * 4) >>> 0
    bit = signedBit & 31
  }
  bit &= v * 8 - 1
  const x = cpu.readRm(v)
  cpu.cf = ((x >>> bit) & 1) !== 0
  if (kind === 0) return
  const m = (1 << bit) >>> 0
  cpu.writeRm(v, trunc(kind === 1 ? x | m : kind === 2 ? x & ~m : x ^ m, v))
}
