/// The emulated 32-bit address space: a handful of flat regions (the mapped image, the stack, the
/// thread's TEB/PEB, what the program allocates), each a Uint8Array. An access outside every region
/// throws a MemoryFault, which the CPU turns into an access violation for the program's SEH handlers
/// or, without one, ends the run. Total allocation is capped so a hostile stub cannot grow it.

/// Allocations stay below the fake DLLs, trap functions and TEB (winapi.ts, emulator.ts).
const allocationCeiling = 0x60000000

export class MemoryFault extends Error {
  constructor (readonly address: number) { super(`memory access at 0x${(address >>> 0).toString(16)} outside the mapped regions`) }
}

export interface Region { readonly base: number, readonly bytes: Uint8Array, readonly name: string }

export class Memory {
  readonly regions: Region[] = []
  #last: Region | undefined
  #allocated = 0

  constructor (readonly maxBytes: number) {}

  map (base: number, size: number, name: string): Region {
    if (size <= 0 || this.#allocated + size > this.maxBytes) throw new Error(`emulated memory over ${this.maxBytes} bytes`)
    const region = { base: base >>> 0, bytes: new Uint8Array(size), name }
    this.#allocated += size
    this.regions.push(region)
    return region
  }

  /// A free base address above everything mapped, for VirtualAlloc.
  freeBase (size: number): number {
    let top = 0x10000000
    for (const r of this.regions) if (r.base < allocationCeiling) top = Math.max(top, r.base + r.bytes.length)
    const base = (top + 0xffff) & ~0xffff
    if (base + size > allocationCeiling) throw new Error('emulated address space exhausted')
    return base >>> 0
  }

  find (address: number): Region | undefined {
    const a = address >>> 0
    const last = this.#last
    if (last !== undefined && a >= last.base && a < last.base + last.bytes.length) return last
    for (const r of this.regions) {
      if (a >= r.base && a < r.base + r.bytes.length) { this.#last = r; return r }
    }
    return undefined
  }

  /// The region holding [address, address + width), made current; throws a MemoryFault otherwise.
  /// Accesses then index #bytes at address - #base (no tuple allocated per access: this is the hot path).
  #bytes: Uint8Array = new Uint8Array(0)
  #base = 0
  #end = 0

  #at (address: number, width: number): number {
    const a = address >>> 0
    if (a >= this.#base && a + width <= this.#end) return a - this.#base
    const r = this.find(a)
    if (r === undefined || a + width > r.base + r.bytes.length) throw new MemoryFault(a)
    this.#bytes = r.bytes
    this.#base = r.base
    this.#end = r.base + r.bytes.length
    return a - r.base
  }

  read8 (address: number): number { const o = this.#at(address, 1); return this.#bytes[o]! }
  read16 (address: number): number { const o = this.#at(address, 2); const b = this.#bytes; return b[o]! | (b[o + 1]! << 8) }
  read32 (address: number): number {
    const o = this.#at(address, 4)
    const b = this.#bytes
    return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
  }

  write8 (address: number, value: number): void { const o = this.#at(address, 1); this.#bytes[o] = value }
  write16 (address: number, value: number): void { const o = this.#at(address, 2); const b = this.#bytes; b[o] = value; b[o + 1] = value >>> 8 }
  write32 (address: number, value: number): void {
    const o = this.#at(address, 4)
    const b = this.#bytes
    b[o] = value; b[o + 1] = value >>> 8; b[o + 2] = value >>> 16; b[o + 3] = value >>> 24
  }

  read (address: number, width: 1 | 2 | 4): number { return width === 1 ? this.read8(address) : width === 2 ? this.read16(address) : this.read32(address) }
  write (address: number, width: 1 | 2 | 4, value: number): void {
    if (width === 1) this.write8(address, value); else if (width === 2) this.write16(address, value); else this.write32(address, value)
  }

  readCString (address: number, max = 256): string {
    let s = ''
    for (let i = 0; i < max; i++) {
      const c = this.read8(address + i)
      if (c === 0) break
      s += String.fromCharCode(c)
    }
    return s
  }
}
