/// ClamAV's normalised text (what target-7 signatures match, and target-0 ones too on text layers):
/// ASCII letters lower-cased, each run of whitespace (\t \n \v \f \r and space) one space, other
/// control bytes and every byte above 0x7f dropped (libclamav's textnorm table; behaviour checked
/// against clamscan 1.4.6). TextNormaliser works chunk by chunk, carrying the "space written" state
/// across chunks, so a layer is normalised inside its single streaming pass.
/// Speed: a tiny hand-assembled WebAssembly function (a few hundred bytes, like kernel.ts: no
/// compiler toolchain on the build machines) takes 16 bytes per step with SIMD where they map one to
/// one, and a 256-entry table lookup per byte elsewhere. A table loop alone, in JS or in WebAssembly,
/// was slower than the anchor scan itself and the larger half of a text layer's cost. The JS loop
/// stays as the reference and where WebAssembly (SIMD) is unavailable.
import { wasm } from './kernel-memory.js'
import { sleb } from './leb128.js'
import { wasmModule } from './wasm-module.js'

/// Per input byte: 0 drop it, 0x20 whitespace, else the byte to write.
const TABLE = new Uint8Array(256)
for (let c = 0; c < 256; c++) {
  if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) TABLE[c] = 0x20
  else if (c > 0x20 && c <= 0x7f) TABLE[c] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c
}

const WINDOW = 64 << 10
const IN = 256 // the table occupies 0..255
const OUT = IN + WINDOW
const PAGES = Math.ceil((OUT + WINDOW) / 65536)

/// (func (export "norm") (param $src i32) (param $end i32) (param $dst i32) (param $sp i32) (result i32)
///   while src < end:
///     if src + 16 <= end:                    // 16 bytes at once (SIMD) when they map one to one:
///       ws = lanes that are whitespace       // nothing dropped, no whitespace after whitespace
///       drop = lanes < 0x21 and not ws, or > 0x7f
///       if drop == 0 and ws & (ws << 1 | sp) == 0:
///         store16(dst, ws ? 0x20 : v + (v in A-Z ? 0x20 : 0)); sp = last lane is ws
///         src += 16; dst += 16; continue
///       stop = src + 16
///     else stop = end
///     while src < stop:                      // one by one, through the table at address 0
///       c = load8(load8(src)); src++
///       store8(dst, c)                       // written always, kept only when dst moves on
///       dst += c != 0 && !(c == 0x20 && sp)
///       sp = c == 0x20 ? 1 : c == 0 ? sp : 0
///   return dst << 1 | sp)
/// Text is mostly single spaces between words, so nearly every block takes the 16-byte step.
function moduleBytes (): Uint8Array {
  const [SRC, END, DST, SP, C, STOP, WSM, V, WS] = [0, 1, 2, 3, 4, 5, 6, 7, 8]
  const get = (l: number): number[] => [0x20, l]
  const set = (l: number): number[] => [0x21, l]
  const tee = (l: number): number[] => [0x22, l]
  const k = (n: number): number[] => [0x41, ...sleb(n)]
  const [load8, store8, eqz, eq, leU, geU, and, add, or, shl, shrU, select] = [0x2d, 0x3a, 0x45, 0x46, 0x4d, 0x4f, 0x71, 0x6a, 0x72, 0x74, 0x76, 0x1b]
  const simd = (o: number): number[] => [0xfd, o]
  const splat = (n: number): number[] => [...k(n), ...simd(0x0f)]
  const [vload, vstore, veq, vltU, vgtU, vand, vandnot, vor, vselect, bitmask, vadd, vsub] =
    [[...simd(0x00), 0, 0], [...simd(0x0b), 0, 0], simd(0x23), simd(0x26), simd(0x28), simd(0x4e), simd(0x4f), simd(0x50), simd(0x52), simd(0x64), simd(0x6e), simd(0x71)]
  const [block, loop, iff, els, end, br, brIf] = [[0x02, 0x40], [0x03, 0x40], [0x04, 0x40], 0x05, 0x0b, 0x0c, 0x0d]
  const body = [
    ...block, ...loop,
    ...get(SRC), ...k(16), add, ...get(END), leU,
    ...iff,
    ...get(SRC), ...vload, ...set(V),
    ...get(V), ...splat(0x20), ...veq, ...get(V), ...splat(9), ...vsub, ...splat(5), ...vltU, ...vor, ...tee(WS), ...bitmask, ...set(WSM),
    ...get(V), ...splat(0x21), ...vltU, ...get(WS), ...vandnot, ...get(V), ...splat(0x7f), ...vgtU, ...vor, ...bitmask,
    ...get(WSM), ...get(WSM), ...k(1), shl, ...get(SP), or, and, or, eqz,
    ...iff,
    ...get(DST), ...splat(0x20),
    ...get(V), ...get(V), ...splat(0x41), ...vsub, ...splat(26), ...vltU, ...splat(0x20), ...vand, ...vadd,
    ...get(WS), ...vselect, ...vstore,
    ...get(WSM), ...k(15), shrU, ...set(SP),
    ...get(SRC), ...k(16), add, ...set(SRC),
    ...get(DST), ...k(16), add, ...set(DST),
    br, 2,
    end,
    ...get(SRC), ...k(16), add, ...set(STOP),
    els,
    ...get(END), ...set(STOP),
    end,
    ...block, ...loop,
    ...get(SRC), ...get(STOP), geU, brIf, 1,
    ...get(SRC), load8, 0, 0, load8, 0, 0, ...set(C),
    ...get(SRC), ...k(1), add, ...set(SRC),
    ...get(DST), ...get(C), store8, 0, 0,
    ...get(C), eqz, eqz, ...get(C), ...k(0x20), eq, ...get(SP), and, eqz, and,
    ...get(DST), add, ...set(DST),
    ...k(1), ...get(SP), ...k(0), ...get(C), eqz, select, ...get(C), ...k(0x20), eq, select, ...set(SP),
    br, 0, end, end,
    ...get(SRC), ...get(END), geU, brIf, 1,
    br, 0,
    end, end,
    ...get(DST), ...k(1), shl, ...get(SP), or,
    end,
  ]
  const fn = [2, 3, 0x7f, 2, 0x7b, ...body] // locals: 3 × i32, 2 × v128
  return wasmModule('norm', PAGES, fn)
}

type NormFn = (src: number, end: number, dst: number, sp: number) => number
interface NormKernel { readonly norm: NormFn, readonly bytes: Uint8Array }

/// One instance per thread, shared by every normaliser on it: push() runs to completion before any
/// other can start, and the state that spans chunks lives in the TextNormaliser. A fresh instance
/// per layer cost every small text body (ICAP 4 KiB inline scans) an instantiation and 192 KiB of
/// zeroed memory. null: WebAssembly (SIMD) unavailable.
let shared: NormKernel | null | undefined

function tryKernel (): NormKernel | undefined {
  if (shared === undefined) {
    try {
      const { exports } = new wasm.Instance(new wasm.Module(moduleBytes()), {})
      const bytes = new Uint8Array((exports['mem'] as { buffer: ArrayBuffer }).buffer)
      bytes.set(TABLE, 0)
      shared = { norm: exports['norm'] as NormFn, bytes }
    } catch {
      shared = null
    }
  }
  return shared ?? undefined
}

/// Where push() writes, shared by every normaliser on the thread as the kernel is: each caller takes
/// the normalised chunk in before any other push can run (normalised.ts copies or matches it at
/// once). One per normaliser was a fresh 1 MiB (a chunk) for every text layer, and every gzip or
/// zip text member is one: its page faults again each time.
let sharedOut = new Uint8Array(0)

export class TextNormaliser {
  #space = false
  readonly #kernel: NormKernel | undefined

  constructor (options: { readonly kernel?: boolean } = {}) {
    this.#kernel = options.kernel === false ? undefined : tryKernel()
  }

  /// The normalised form of the next chunk, in a buffer the next push() on this thread (of any
  /// normaliser) overwrites.
  push (chunk: Uint8Array): Uint8Array {
    if (sharedOut.length < chunk.length) sharedOut = new Uint8Array(Math.max(chunk.length, 64 << 10))
    const out = sharedOut
    const n = this.#kernel === undefined ? this.#js(chunk, out) : this.#wasm(chunk, out, this.#kernel)
    return out.subarray(0, n)
  }

  #wasm (chunk: Uint8Array, out: Uint8Array, k: NormKernel): number {
    let n = 0
    for (let at = 0; at < chunk.length; at += WINDOW) {
      const part = chunk.subarray(at, at + WINDOW)
      k.bytes.set(part, IN)
      const r = k.norm(IN, IN + part.length, OUT, this.#space ? 1 : 0)
      this.#space = (r & 1) !== 0
      const end = r >>> 1
      out.set(k.bytes.subarray(OUT, end), n)
      n += end - OUT
    }
    return n
  }

  #js (chunk: Uint8Array, out: Uint8Array): number {
    let n = 0
    let space = this.#space
    for (let i = 0; i < chunk.length; i++) {
      const c = TABLE[chunk[i]!]!
      if (c === 0) continue
      if (c === 0x20) {
        if (space) continue
        space = true
      } else {
        space = false
      }
      out[n++] = c
    }
    this.#space = space
    return n
  }
}

/// A whole layer normalised at once (a fresh array).
export function normaliseText (bytes: Uint8Array, options: { readonly kernel?: boolean } = {}): Uint8Array {
  return new TextNormaliser(options).push(bytes).slice()
}
