/// MUL, IMUL (one operand) and DIV, IDIV: the double-width products and dividends in AX, DX:AX or
/// EDX:EAX. 32-bit operands go through BigInt, the only exact 64-bit arithmetic JavaScript has.
import { EAX, EDX, signExtend, trunc, type Cpu, type Width } from './cpu.js'

export function multiply (cpu: Cpu, x: number, w: Width, signed: boolean): void {
  const a = signed ? signExtend(cpu.reg(EAX, w), w) : cpu.reg(EAX, w)
  const b = signed ? signExtend(x, w) : x
  if (w === 4) {
    const p = BigInt(a) * BigInt(b)
    const low = Number(BigInt.asUintN(32, p))
    const high = Number(BigInt.asUintN(32, p >> 32n))
    cpu.r[EAX] = low
    cpu.r[EDX] = high
    cpu.cf = cpu.of = signed ? BigInt.asIntN(32, p) !== p : high !== 0
    return
  }
  const p = a * b
  if (w === 1) {
    cpu.setReg(EAX, 2, p & 0xffff)
    cpu.cf = cpu.of = signed ? signExtend(p & 0xff, 1) !== p : (p >>> 8) !== 0
  } else {
    cpu.setReg(EAX, 2, p & 0xffff)
    cpu.setReg(EDX, 2, (p >>> 16) & 0xffff)
    cpu.cf = cpu.of = signed ? signExtend(p & 0xffff, 2) !== p : (p >>> 16) !== 0
  }
}

/// False on a divide error (zero divisor or a quotient that does not fit).
export function divide (cpu: Cpu, x: number, w: Width, signed: boolean): boolean {
  if (x === 0) return false
  const bits = BigInt(w * 8)
  let dividend: bigint
  if (w === 1) dividend = BigInt(cpu.reg(EAX, 2))
  else dividend = (BigInt(cpu.reg(EDX, w)) << bits) | BigInt(cpu.reg(EAX, w))
  let divisor = BigInt(x)
  if (signed) {
    dividend = BigInt.asIntN(Number(bits) * 2, dividend)
    divisor = BigInt(signExtend(x, w))
  }
  const q = dividend / divisor
  const r = dividend % divisor
  const fits = signed ? BigInt.asIntN(Number(bits), q) === q : q < (1n << bits)
  if (!fits) return false
  const qn = trunc(Number(BigInt.asUintN(Number(bits), q)), w)
  const rn = trunc(Number(BigInt.asUintN(Number(bits), r)), w)
  if (w === 1) cpu.setReg(EAX, 2, qn | (rn << 8))
  else { cpu.setReg(EAX, w, qn); cpu.setReg(EDX, w, rn) }
  return true
}
