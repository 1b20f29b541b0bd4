/// Where the anchor kernel's WebAssembly memory comes from. The Bloom bitmaps of one DB are written
/// once into a shared memory, built by the thread that starts the worker pool and handed to every
/// worker, so N workers hold one copy (2 MiB for the peer DB) instead of N. Each kernel scans in a
/// slot of its own (hit array and byte window) that it claims in a table at the memory's start and
/// that the pool frees once the worker's thread is gone: a worker that crashes or is killed and
/// replaced leaves nothing behind. Without a shared memory, or with every slot taken, a kernel gets
/// a private memory holding copies of the bitmaps (correct, 2 MiB more).
///
/// Layout: [0] slot count, [1..MAX_SLOTS] owner of each slot (its thread id + 1, 0 when free);
/// from FILTERS_AT the 4-byte and the 2-byte anchors' Bloom bitmaps and the coarse filter (below);
/// then, page-aligned, the slots (each: the hit array, OUT_MAX + OUT_SLACK entries, then the window).
///
/// The coarse filter: one byte per 2^(COARSE_SHIFT + 3) bits of a large 4-byte Bloom bitmap (1/8 of
/// its size), two bits per hash (coarseFilter() below). A peer-scale DB's bitmap is 2 MiB (24-bit
/// grams), the size of this machine's L2 cache per core, so on random bytes nearly every position
/// cost a cache miss; the coarse filter is 256 KiB and stays cached. The kernel tests it first and
/// reads the large bitmap only for the few positions it lets through (0.54 % of random positions with
/// that DB, 0.22 % of text; 1.13 % and 0.43 % when it held one bit per hash). It never hides a hit: a
/// hash whose bit is set in the large bitmap has both its coarse bits set. Measured on random 1 MiB with
/// that DB (kernel alone, CPU ms, loaded machine, the one-bit coarse bitmap and the kernel before
/// the SIMD body): 10.7-12.1 without, 6.2-7.3 with a coarse bitmap of 1/2, 1/4 or 1/8 the size, 8.1-8.4 at 1/16 and 11-15 at 1/32 or 1/64 (a coarse bit set too often
/// costs more in mispredicted branches than it saves in misses). Bitmaps up to COARSE_FROM bytes
/// stay cached on their own and get none (the kernel then tests the bitmap itself twice, at no cost).
import { threadId } from 'node:worker_threads'

// The project's lib (es2023, no DOM) has no WebAssembly typings: the little the kernel uses, typed here.
export interface WasmMemory { readonly buffer: ArrayBuffer | SharedArrayBuffer }
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> }
  readonly Memory: new (descriptor: { initial: number, maximum?: number, shared?: boolean }) => WasmMemory
}
export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

const PAGE = 65536
/// Hits one kernel call can report before it returns to be drained.
export const OUT_MAX = 1 << 14
/// Entries the hit array has past OUT_MAX: the SIMD body appends a step's hits without a branch per
/// hit and checks for a full array once per step, so a call may report up to 15 more than OUT_MAX.
export const OUT_SLACK = 16
/// Bytes scanned per kernel call: each slot holds one window.
export const WINDOW = 256 << 10
/// A slot: the hit array, then the window (plus the 3 bytes a last gram reads, up to 7 bytes of
/// shift to match the source's alignment, see AnchorKernel.run(), and the 16 bytes past them that
/// kernel-simd.ts's last 16-byte load of a step may read: those lanes are never used).
const SLOT_BYTES = Math.ceil(((OUT_MAX + OUT_SLACK) * 4 + WINDOW + 3 + 7 + 16) / PAGE) * PAGE
const MAX_SLOTS = 256
const FILTERS_AT = 4 * (1 + MAX_SLOTS)

/// Bits of the large bitmap behind one coarse bit (log2): 8 (a 2 MiB bitmap has a 256 KiB coarse one).
export const COARSE_SHIFT = 3
/// Large bitmaps up to this many bytes get no coarse bitmap (they stay in cache by themselves).
const COARSE_FROM = 256 << 10

const pageAlign = (bytes: number): number => Math.ceil(bytes / PAGE) * PAGE

interface Layout {
  readonly bloom: number
  readonly bloom2: number
  /// Where the coarse bitmap is; equal to `bloom` when the bitmap is small enough to have none.
  readonly coarse: number
  /// log2 of the large bitmap's bits per coarse bit (0: no coarse bitmap, the large one stands in).
  readonly coarseShift: number
  readonly slots: number
  readonly bytes: (slots: number) => number
}

function layoutOf (bloom: Uint32Array, bloom2: Uint32Array): Layout {
  const coarseBytes = bloom.byteLength > COARSE_FROM ? Math.max(4, bloom.byteLength >>> COARSE_SHIFT) : 0
  const bloom2At = FILTERS_AT + bloom.byteLength
  const coarseAt = bloom2At + bloom2.byteLength
  const slots = pageAlign(coarseAt + coarseBytes)
  return {
    bloom: FILTERS_AT,
    bloom2: bloom2At,
    coarse: coarseBytes > 0 ? coarseAt : FILTERS_AT,
    coarseShift: coarseBytes > 0 ? COARSE_SHIFT : 0,
    slots,
    bytes: n => slots + n * SLOT_BYTES,
  }
}

/// The coarse filter of `bloom` (COARSE_SHIFT 3: one byte per 64 bits of it, 1/8 of its size): a
/// Bloom filter with two bits per hash h inside byte h >>> 6, bit (h >>> 3) & 7 (byte h >>> 3 of bloom
/// is nonzero: the coarse bitmap it used to be) and bit h & 7 (the bit h has inside its byte). So a
/// coarse byte is the nonzero mask of its 8 bloom bytes ORed with those bytes themselves. Testing both
/// bits (kernel-simd.ts) passes 0.54 % of random positions with the peer-scale DB instead of 1.13 %,
/// at the same size and the same one byte read per position; a position testing one bit of the two
/// (kernel-scalar.ts) is still never wrongly turned away. Built on the thread that starts the pool,
/// before the workers can scan, a word at a time (stepping over every set bit instead cost ~25 ms of
/// every `scanwall scan` start with the peer-scale DB's 2 MiB bitmap).
export function coarseFilter (bloom: Uint32Array): Uint32Array {
  const coarse = new Uint32Array(Math.max(1, bloom.length >>> 3))
  for (let w = 0; w < bloom.length; w++) {
    const x = bloom[w]!
    if (x === 0) continue
    // The top bit of each byte of t is set where that byte of x is nonzero.
    const t = (((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x) & 0x80808080
    const nibble = ((t >>> 7) & 1) | ((t >>> 14) & 2) | ((t >>> 21) & 4) | ((t >>> 28) & 8)
    coarse[w >>> 3]! |= nibble << ((w & 7) << 2)
    // Words 2c and 2c + 1 are the 8 bloom bytes of coarse byte c: their bits ORed into it.
    const y = x | (x >>> 16)
    coarse[w >>> 3]! |= ((y | (y >>> 8)) & 0xff) << (((w >>> 1) & 3) << 3)
  }
  return coarse
}

function writeFilters (memory: WasmMemory, at: Layout, bloom: Uint32Array, bloom2: Uint32Array): void {
  const bytes = new Uint8Array(memory.buffer)
  bytes.set(new Uint8Array(bloom.buffer, bloom.byteOffset, bloom.byteLength), at.bloom)
  bytes.set(new Uint8Array(bloom2.buffer, bloom2.byteOffset, bloom2.byteLength), at.bloom2)
  if (at.coarseShift > 0) {
    const coarse = coarseFilter(bloom)
    bytes.set(new Uint8Array(coarse.buffer, coarse.byteOffset, coarse.byteLength), at.coarse)
  }
}

/// A shared kernel memory with `slots` slots (at most MAX_SLOTS): one per worker, one per other
/// thread that matches with this DB (the leaf scanner), and a few for replacements that start
/// before the pool has freed their predecessor's slot.
export function sharedKernelMemory (bloom: Uint32Array, bloom2: Uint32Array, slots: number): WasmMemory {
  const at = layoutOf(bloom, bloom2)
  const count = Math.max(1, Math.min(MAX_SLOTS, slots))
  const pages = at.bytes(count) / PAGE
  // A shared memory must declare a maximum; it never grows (untouched slot pages are address space).
  const memory = new wasm.Memory({ initial: pages, maximum: pages, shared: true })
  writeFilters(memory, at, bloom, bloom2)
  new Int32Array(memory.buffer, 0, 1)[0] = count
  return memory
}

/// Frees the slots held by threads other than `live` (the pool calls it when a worker is gone, with
/// its live workers and its own thread: a gone worker's thread id is no longer known by then).
export function releaseKernelSlots (memory: WasmMemory, live: ReadonlySet<number>): void {
  const claims = new Int32Array(memory.buffer, 0, 1 + MAX_SLOTS)
  for (let k = 1; k <= (claims[0] ?? 0); k++) {
    const owner = Atomics.load(claims, k)
    if (owner !== 0 && !live.has(owner - 1)) Atomics.compareExchange(claims, k, owner, 0)
  }
}

/// The threads whose kernels hold a slot (diagnostics and tests).
export function kernelSlotOwners (memory: WasmMemory): number[] {
  const claims = new Int32Array(memory.buffer, 0, 1 + MAX_SLOTS)
  const owners: number[] = []
  for (let k = 1; k <= (claims[0] ?? 0); k++) if (Atomics.load(claims, k) !== 0) owners.push(Atomics.load(claims, k) - 1)
  return owners
}

/// The memory a kernel works in and where things are in it.
export interface KernelPlace {
  readonly memory: WasmMemory
  readonly shared: boolean
  readonly bloom: number
  readonly bloom2: number
  /// The coarse bitmap and its shift (Layout's; `bloom` and 0 when there is none).
  readonly coarse: number
  readonly coarseShift: number
  /// Start of this kernel's slot: hit array, then window.
  readonly slot: number
}

/// A slot in `shared` (claimed for this thread), or a private memory with copies of the bitmaps.
export function placeKernel (bloom: Uint32Array, bloom2: Uint32Array, shared?: WasmMemory): KernelPlace {
  const at = layoutOf(bloom, bloom2)
  if (shared !== undefined) {
    const claims = new Int32Array(shared.buffer, 0, 1 + MAX_SLOTS)
    const count = claims[0] ?? 0
    // A memory built for bitmaps of another size would not hold the slots where this layout puts them.
    if (shared.buffer.byteLength === at.bytes(count)) {
      for (let k = 0; k < count; k++) {
        if (Atomics.compareExchange(claims, 1 + k, 0, threadId + 1) === 0) {
          return { memory: shared, shared: true, bloom: at.bloom, bloom2: at.bloom2, coarse: at.coarse, coarseShift: at.coarseShift, slot: at.slots + k * SLOT_BYTES }
        }
      }
    }
  }
  const memory = new wasm.Memory({ initial: at.bytes(1) / PAGE })
  writeFilters(memory, at, bloom, bloom2)
  return { memory, shared: false, bloom: at.bloom, bloom2: at.bloom2, coarse: at.coarse, coarseShift: at.coarseShift, slot: at.slots }
}
