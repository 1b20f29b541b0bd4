/// The anchor-scan inner loop as a tiny WebAssembly function: for every position of a byte range it
/// hashes the 4-byte gram and tests the anchor Bloom bitmap, writing the positions that hit into an
/// output array. The JS loop does the same work at several nanoseconds per byte; this one at about
/// one. The module is a few hundred bytes, so it is assembled here by hand rather than pulling in a
/// compiler toolchain (no wat2wasm/AssemblyScript on the build machines); stream.ts keeps the JS loop
/// as the reference path and for short ranges.
///
/// (func (export "scan") (param $from i32) (param $to i32) (param $bloom i32) (param $bloom2 i32)
///       (param $shift i32) (param $out i32) (param $max i32) (param $coarse i32) (param $cshift i32)
///       (result i32))
/// reports, in order, each position i in [from, to] where
///   test(x, map, s) = ((load32(map + (h >>> 5) * 4) >>> h)                  // 4-byte anchors,
///                      | (load32(bloom2 + ((x & 0xffff) >>> 5) * 4) >>> x)) & 1  // 2-byte anchors
///                     where h = (x * 0x9e3779b1) >>> s, x = load32(i)
/// holds for the large bitmap (bloom, shift), into out[0 .. n), and returns n (at most max: the
/// caller drains the array and calls again from the position after the last one). A large bitmap has
/// a coarse one (kernel-memory.ts: coarse, cshift), tested first, that never hides a hit. The body is
/// kernel-simd.ts's (sixteen positions per step) where WebAssembly SIMD runs, else kernel-scalar.ts's
/// (four per step); both end on the same exact test (kernel-wasm.ts).

import { OUT_MAX, OUT_SLACK, WINDOW, placeKernel, wasm, type WasmMemory } from './kernel-memory.js'
import { uleb } from './leb128.js'
import { I32 } from './kernel-wasm.js'
import { scalarCode } from './kernel-scalar.js'
import { simdCode, type SimdLayout } from './kernel-simd.js'

const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body]
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()]
const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s)]

/// The imported memory's type: private (flag 0) or shared (flag 3: a shared memory must declare a
/// maximum). The least an import may declare (0 pages, and 4 GiB, wasm32's most), so one module per
/// kind links to the memory of any DB: a module is compiled once and cached for the process.
function moduleBytes (short: boolean, shared: boolean, body: KernelBody, layout: SimdLayout): Uint8Array {
  const memory = shared ? [0x03, 0, ...uleb(65536)] : [0x00, 0]
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec(Array.from({ length: 9 }, () => [I32])), ...vec([[I32]])]])),
    ...section(2, vec([[...name('e'), ...name('m'), 0x02, ...memory]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('scan'), 0x00, 0]])),
    ...section(10, vec([body === 'simd' ? simdCode(short, layout) : scalarCode(short)])),
  ])
}

/// Which function body a kernel runs: 'simd' where WebAssembly SIMD is available (kernel-simd.ts),
/// else 'scalar' (kernel-scalar.ts).
export type KernelBody = 'simd' | 'scalar'

/// Compiled modules by kind; null: this kind does not compile here (no SIMD: the scalar one is used).
const compiled = new Map<string, object | null>()

type ScanFn = (from: number, to: number, bloom: number, bloom2: number, shift: number, out: number, max: number, coarse: number, coarseShift: number) => number

function moduleOf (short: boolean, shared: boolean, body: KernelBody, layout: SimdLayout): object | null {
  // The SIMD body bakes the layout in (kernel-simd.ts); the scalar one takes it all as parameters.
  const baked = body === 'simd' ? `:${layout.shift}:${String(layout.coarse)}:${layout.filterAt}:${layout.bloom2At}` : ''
  const key = `${String(short)}:${String(shared)}:${body}${baked}`
  let module = compiled.get(key)
  if (module === undefined) {
    try {
      module = new wasm.Module(moduleBytes(short, shared, body, layout))
    } catch (err) {
      if (body === 'scalar') throw err
      module = null
    }
    compiled.set(key, module)
  }
  return module
}

function instantiate (short: boolean, shared: boolean, memory: WasmMemory, layout: SimdLayout, wanted: KernelBody | undefined): { scan: ScanFn, body: KernelBody } {
  let body: KernelBody = wanted ?? 'simd'
  let module = moduleOf(short, shared, body, layout)
  if (module === null) {
    if (wanted === 'simd') throw new Error('WebAssembly SIMD is not available')
    body = 'scalar'
    module = moduleOf(short, shared, body, layout)!
  }
  return { scan: new wasm.Instance(module, { e: { m: memory } }).exports['scan'] as ScanFn, body }
}

/// One instance per Matcher (per worker). Its memory (kernel-memory.ts) holds the Bloom bitmaps and,
/// in this kernel's slot, the hit array and a 256 KiB window of the bytes being scanned: the pool's
/// shared memory when one is given and has a free slot, else a private one.
export class AnchorKernel {
  readonly #scan: ScanFn
  readonly #shift: number
  readonly #bloom: number
  readonly #bloom2: number
  readonly #coarse: number
  readonly #coarseShift: number
  readonly #out: number
  readonly #data: number
  readonly #bytes: Uint8Array
  readonly #hits: Int32Array
  /// Whether this kernel maps a shared memory's bitmaps (false: it holds its own copies).
  readonly sharesMemory: boolean
  /// Whether it tests a coarse bitmap first (a large Bloom bitmap: kernel-memory.ts).
  readonly coarse: boolean
  /// The function body it runs (tests and benchmarks may ask for either; by default SIMD where it runs).
  readonly body: KernelBody

  constructor (bloom: Uint32Array, bloom2: Uint32Array, gramBits: number, short: boolean, shared?: WasmMemory, body?: KernelBody) {
    const place = placeKernel(bloom, bloom2, shared)
    this.sharesMemory = place.shared
    this.#shift = 32 - gramBits
    this.#bloom = place.bloom
    this.#bloom2 = place.bloom2
    this.#coarse = place.coarse
    this.#coarseShift = this.#shift + place.coarseShift
    this.coarse = place.coarseShift > 0
    this.#out = place.slot
    this.#data = this.#out + (OUT_MAX + OUT_SLACK) * 4
    const layout = { shift: this.#shift, coarse: this.coarse, filterAt: place.coarse, bloom2At: place.bloom2 }
    const kernel = instantiate(short, place.shared, place.memory, layout, body)
    this.#scan = kernel.scan
    this.body = kernel.body
    this.#bytes = new Uint8Array(place.memory.buffer)
    this.#hits = new Int32Array(place.memory.buffer, this.#out, OUT_MAX + OUT_SLACK)
  }

  /// Calls hit(i) for every gram start i in [from, to] of buf (bytes up to to + 3 must exist) whose
  /// 4-byte gram or leading 2 bytes pass a Bloom filter, in increasing order.
  run (buf: Uint8Array, from: number, to: number, hit: (i: number) => void): void {
    // Window by window, so each worker's private memory stays small (RSS with N workers).
    for (let start = from; start <= to; start += WINDOW) {
      const end = Math.min(to, start + WINDOW - 1)
      // The window starts at the source's offset mod 8: a copy into shared memory is done word by
      // word only when both sides are equally aligned (else byte by byte, about 6x slower).
      const data = this.#data + ((buf.byteOffset + start) & 7)
      this.#bytes.set(buf.subarray(start, end + 4), data)
      const base = data - start
      let at = data
      const last = data + (end - start)
      for (;;) {
        const n = this.#scan(at, last, this.#bloom, this.#bloom2, this.#shift, this.#out, OUT_MAX, this.#coarse, this.#coarseShift)
        const hits = this.#hits
        for (let j = 0; j < n; j++) hit(hits[j]! - base)
        if (n < OUT_MAX) break
        at = hits[n - 1]! + 1
      }
    }
  }
}
