/// Append-only typed arrays for the DB builder: amortised doubling, then one exact-size copy into
/// the shared buffer. Avoids JS arrays of millions of numbers while an 8-million-line DB compiles.

type Ctor<T> = new (n: number) => T

export class Grow<T extends Int32Array | Uint32Array | Uint8Array> {
  #data: T
  length = 0
  readonly #Ctor: Ctor<T>
  constructor (Ctor: Ctor<T>, initial = 1024) {
    this.#Ctor = Ctor
    this.#data = new Ctor(initial)
  }

  #reserve (extra: number): void {
    if (this.length + extra <= this.#data.length) return
    let cap = this.#data.length * 2
    while (cap < this.length + extra) cap *= 2
    const next = new this.#Ctor(cap)
    next.set(this.#data.subarray(0, this.length))
    this.#data = next
  }

  push (v: number): number {
    this.#reserve(1)
    this.#data[this.length] = v
    return this.length++
  }

  /// Appends raw bytes (Uint8 only) and returns the offset they start at.
  append (bytes: ArrayLike<number>): number {
    this.#reserve(bytes.length)
    const at = this.length
    this.#data.set(bytes, at)
    this.length += bytes.length
    return at
  }

  /// Reserves n zeroed slots and returns a writable view on them.
  grab (n: number): T {
    this.#reserve(n)
    const at = this.length
    this.length += n
    return this.#data.subarray(at, at + n) as T
  }

  get view (): T { return this.#data.subarray(0, this.length) as T }
}

/// Interned UTF-8 strings (signature names, expressions): id → bytes in one blob.
export class StringTable {
  readonly bytes = new Grow(Uint8Array, 1 << 16)
  readonly offsets = new Grow(Uint32Array, 1 << 12)
  constructor () { this.offsets.push(0) }

  add (s: string): number {
    const view = this.bytes.grab(Buffer.byteLength(s))
    Buffer.from(view.buffer, view.byteOffset, view.length).write(s)
    return this.offsets.push(this.bytes.length) - 1
  }
}
