/// The anchor-scan inner loop as a tiny WebAssembly function: for every position of a byte range it
/// hashes the 4-byte gram and tests the anchor Bloom bitmap, writing the positions that hit into an
/// output array. The JS loop does the same work at several nanoseconds per byte; this one at about
/// one. The module is a few hundred bytes, so it is assembled here by hand rather than pulling in a
/// compiler toolchain (no wat2wasm/AssemblyScript on the build machines); stream.ts keeps the JS loop
/// as the reference path and for short ranges.
///
/// (func (export "scan") (param $from i32) (param $to i32) (param $bloom i32) (param $bloom2 i32)
///       (param $shift i32) (param $out i32) (param $max i32) (param $coarse i32) (param $cshift i32)
///       (result i32) (local $i i32) (local $h i32) (local $n i32) (local $x i32) (local $w i64) (local $slow i32)
///   short(x)  = load32(bloom2 + ((x & 0xffff) >>> 5) * 4) >>> x                // 2-byte anchors
///   fine(x)   = (load32(bloom + (h >>> 5) * 4) >>> h) | short(x)               // h = (x * 0x9e3779b1) >>> shift
///   coarse(x) = (load32(coarse + (c >>> 5) * 4) >>> c) | short(x)              // c = (x * 0x9e3779b1) >>> cshift
///   i = from; slow = -1
///   while i <= to:
///     if i > slow and i + 3 <= to:                  // four grams from one 8-byte load
///       w = load64(i)
///       if not (coarse(w) | coarse(w >> 8) | coarse(w >> 16) | coarse(w >> 24)) & 1: i += 4; continue
///       slow = i + 3                                // one passed: take them one by one
///     if coarse(load32(i)) & 1 and fine(x) & 1:
///       out[n++] = i; if n == max: return n
///     i++
///   return n)
/// Testing four positions per step and branching once made text (whose grams mostly hit cached
/// bitmap lines) 35 % faster. Random bytes were bound by misses in a large DB's fine bitmap (2 MiB
/// for the peer-scale DB): the coarse bitmap (kernel-memory.ts, coarseBloom; at most 256 KiB, so it
/// stays in L2) is a superset filter read first, and the fine one only for the grams it lets by.

import { COARSE_MAX_BITS, OUT_MAX, WINDOW, placeKernel, wasm, type WasmMemory } from './kernel-memory.js'
import { sleb, uleb } from './leb128.js'

const GOLDEN = 0x9e3779b1 | 0

const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body]
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()]
const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s)]

const I32 = 0x7f
const op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  return: 0x0f,
  void: 0x40,
  get: 0x20,
  set: 0x21,
  tee: 0x22,
  load: 0x28,
  store: 0x36,
  const: 0x41,
  eq: 0x46,
  gtU: 0x4b,
  add: 0x6a,
  mul: 0x6c,
  and: 0x71,
  shl: 0x74,
  shrU: 0x76,
  or: 0x72,
  eqz: 0x45,
  gtS: 0x4a,
  leU: 0x4d,
  load64: 0x29,
  const64: 0x42,
  shrU64: 0x88,
  wrap: 0xa7,
} as const
const I64 = 0x7e
const [FROM, TO, BLOOM, BLOOM2, SHIFT, OUT, MAX, COARSE, CSHIFT, I, H, N, X, W, SLOW] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14] as const

function code (short: boolean): number[] {
  const get = (l: number): number[] => [op.get, l]
  // The filter word(s) of the gram on the stack in `bitmap` (fine: BLOOM/SHIFT, coarse: COARSE/CSHIFT),
  // shifted so that bit 0 is its Bloom bit (not masked: callers OR several and mask once).
  const test = (gram: number[], bitmap: number = BLOOM, shift: number = SHIFT): number[] => [
    ...gram, op.tee, X,
    op.const, ...sleb(GOLDEN), op.mul, ...get(shift), op.shrU, op.set, H,
    ...get(bitmap), ...get(H), op.const, 5, op.shrU, op.const, 2, op.shl, op.add, op.load, 2, 0,
    ...get(H), op.shrU,
    // Only DBs with 2-byte anchors pay for the second test (measured: it about halves the loop's speed).
    ...(short
      ? [...get(BLOOM2), ...get(X), op.const, ...sleb(0xffff), op.and, op.const, 5, op.shrU, op.const, 2, op.shl, op.add, op.load, 2, 0,
          ...get(X), op.shrU, op.or]
      : []),
  ]
  const coarse = (gram: number[]): number[] => test(gram, COARSE, CSHIFT)
  const gramOfW = (k: number): number[] => k === 0 ? [...get(W), op.wrap] : [...get(W), op.const64, k * 8, op.shrU64, op.wrap]
  const body = [
    ...get(FROM), op.set, I,
    op.const, ...sleb(-1), op.set, SLOW,
    op.block, op.void,
    op.loop, op.void,
    ...get(I), ...get(TO), op.gtU, op.brIf, 1,
    // Four positions at once from one 8-byte load; almost always none passes, and the loop moves on
    // by 4. When one does, the four are taken again one by one below (up to SLOW).
    ...get(I), ...get(SLOW), op.gtS, ...get(I), op.const, 3, op.add, ...get(TO), op.leU, op.and,
    op.if, op.void,
    ...get(I), op.load64, 3, 0, op.set, W,
    ...coarse(gramOfW(0)), ...coarse(gramOfW(1)), op.or, ...coarse(gramOfW(2)), op.or, ...coarse(gramOfW(3)), op.or,
    op.const, 1, op.and, op.eqz,
    op.if, op.void,
    ...get(I), op.const, 4, op.add, op.set, I,
    op.br, 2,
    op.end,
    ...get(I), op.const, 3, op.add, op.set, SLOW,
    op.end,
    // One position: the coarse bitmap, then (for the few it lets by) the fine one on the same gram.
    ...coarse([...get(I), op.load, 0, 0]),
    op.const, 1, op.and,
    op.if, op.void,
    ...test(get(X)),
    op.const, 1, op.and,
    op.if, op.void,
    ...get(OUT), ...get(N), op.const, 2, op.shl, op.add, ...get(I), op.store, 2, 0,
    ...get(N), op.const, 1, op.add, op.tee, N, ...get(MAX), op.eq,
    op.if, op.void, ...get(N), op.return, op.end,
    op.end,
    op.end,
    ...get(I), op.const, 1, op.add, op.set, I,
    op.br, 0,
    op.end,
    op.end,
    ...get(N),
    op.end,
  ]
  const fn = [...vec([[4, I32], [1, I64], [1, I32]]), ...body]
  return [...uleb(fn.length), ...fn]
}

/// The imported memory's type: private (flag 0) or shared (flag 3: a shared memory must declare a
/// maximum). The least an import may declare (0 pages, and 4 GiB, wasm32's most), so one module per
/// kind links to the memory of any DB: a module is compiled once and cached for the process.
function moduleBytes (short: boolean, shared: boolean): Uint8Array {
  const memory = shared ? [0x03, 0, ...uleb(65536)] : [0x00, 0]
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32], [I32], [I32]]), ...vec([[I32]])]])),
    ...section(2, vec([[...name('e'), ...name('m'), 0x02, ...memory]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('scan'), 0x00, 0]])),
    ...section(10, vec([code(short)])),
  ])
}

const compiled = new Map<string, object>()

type ScanFn = (from: number, to: number, bloom: number, bloom2: number, shift: number, out: number, max: number, coarse: number, coarseShift: number) => number

function instantiate (short: boolean, shared: boolean, memory: WasmMemory): ScanFn {
  const key = `${String(short)}:${String(shared)}`
  let module = compiled.get(key)
  if (module === undefined) compiled.set(key, module = new wasm.Module(moduleBytes(short, shared)))
  return new wasm.Instance(module, { e: { m: memory } }).exports['scan'] as ScanFn
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

  constructor (bloom: Uint32Array, bloom2: Uint32Array, gramBits: number, short: boolean, shared?: WasmMemory) {
    const place = placeKernel(bloom, bloom2, shared)
    this.sharesMemory = place.shared
    this.#shift = 32 - gramBits
    this.#bloom = place.bloom
    this.#bloom2 = place.bloom2
    this.#coarse = place.coarse
    this.#coarseShift = 32 - Math.min(gramBits, COARSE_MAX_BITS)
    this.#out = place.slot
    this.#data = this.#out + OUT_MAX * 4
    this.#scan = instantiate(short, place.shared, place.memory)
    this.#bytes = new Uint8Array(place.memory.buffer)
    this.#hits = new Int32Array(place.memory.buffer, this.#out, OUT_MAX)
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
