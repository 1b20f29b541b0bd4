/// Where the anchor kernel's WebAssembly memory comes from. The Bloom bitmaps of one DB are written
/// once into a shared memory, built by the thread that starts the worker pool and handed to every
/// worker, so N workers hold one copy (2 MiB for the peer DB) instead of N. Each kernel scans in a
/// slot of its own (hit array and byte window) that it claims in a table at the memory's start and
/// that the pool frees once the worker's thread is gone: a worker that crashes or is killed and
/// replaced leaves nothing behind. Without a shared memory, or with every slot taken, a kernel gets
/// a private memory holding copies of the bitmaps (correct, 2 MiB more).
///
/// Layout: [0] slot count, [1..MAX_SLOTS] owner of each slot (its thread id + 1, 0 when free);
/// from FILTERS_AT the 4-byte and the 2-byte anchors' Bloom bitmaps and the coarse bitmap (the
/// 4-byte one folded to at most 2^21 bits, see coarseBloom); then, page-aligned, the slots.
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
/// Bytes scanned per kernel call: each slot holds one window.
export const WINDOW = 256 << 10
/// A slot: the hit array, then the window (plus the 3 bytes a last gram reads, and up to 7 bytes of
/// shift to match the source's alignment, see AnchorKernel.run()).
const SLOT_BYTES = Math.ceil((OUT_MAX * 4 + WINDOW + 3 + 7) / PAGE) * PAGE
const MAX_SLOTS = 256
const FILTERS_AT = 4 * (1 + MAX_SLOTS)

const pageAlign = (bytes: number): number => Math.ceil(bytes / PAGE) * PAGE

/// Bits of the coarse bitmap at most: 2^21 bits are 256 KiB, which stay in L2 beside the window
/// being scanned. The peer-scale DB's 2 MiB bitmap (24k anchors) does not, on this shared VM: on
/// random bytes the kernel ran at ~10 ns per byte against ~2.7 with an 8 KiB bitmap. With the coarse
/// bitmap first it runs at ~5.5 (1 MiB of random bytes; 4 KiB leaf scan 85 → 48 µs, 64 KiB match
/// 740 → 400 µs, CPU time, in-process): 2^18 bits (L1-sized) passed ~9 % of grams on, whose slow
/// path cost more than the misses it saved (14 ns per byte); 2^20 gave 6.5-7.5, 2^22 the same as 2^21.
export const COARSE_MAX_BITS = 21

/// log2 of a bitmap's bit count (bitmaps are powers of two of at least 32 bits).
export const bitsOf = (bloom: Uint32Array): number => Math.round(Math.log2(bloom.length * 32))

/// The 4-byte anchors' bitmap folded to 2^min(bits, COARSE_MAX_BITS) bits: coarse bit j is set when any
/// of the fine bits j·F … j·F+F-1 is (F = 2^(bits - coarse bits)). The fine index is the gram's hash's
/// top `bits` bits, so the coarse index is its top coarse bits: a gram that passes the fine bitmap
/// always passes the coarse one, and the kernel reads the fine one only for grams the coarse lets by.
export function coarseBloom (bloom: Uint32Array): Uint32Array {
  const fold = bitsOf(bloom) - Math.min(bitsOf(bloom), COARSE_MAX_BITS)
  if (fold === 0) return bloom
  const coarse = new Uint32Array(bloom.length >>> fold)
  for (let w = 0; w < bloom.length; w++) {
    const word = bloom[w]!
    if (word === 0) continue
    for (let bit = 0; bit < 32; bit++) {
      if (((word >>> bit) & 1) === 0) continue
      const j = (w * 32 + bit) >>> fold
      coarse[j >>> 5]! |= 1 << (j & 31)
    }
  }
  return coarse
}

interface Layout { readonly bloom: number, readonly bloom2: number, readonly coarse: number, readonly slots: number, readonly bytes: (slots: number) => number }

const coarseBytes = (bloom: Uint32Array): number => (1 << Math.min(bitsOf(bloom), COARSE_MAX_BITS)) >>> 3

function layoutOf (bloom: Uint32Array, bloom2: Uint32Array): Layout {
  const coarse = FILTERS_AT + bloom.byteLength + bloom2.byteLength
  const slots = pageAlign(coarse + coarseBytes(bloom))
  return { bloom: FILTERS_AT, bloom2: FILTERS_AT + bloom.byteLength, coarse, slots, bytes: n => slots + n * SLOT_BYTES }
}

function writeFilters (memory: WasmMemory, at: Layout, bloom: Uint32Array, bloom2: Uint32Array): void {
  const bytes = new Uint8Array(memory.buffer)
  const coarse = coarseBloom(bloom)
  bytes.set(new Uint8Array(bloom.buffer, bloom.byteOffset, bloom.byteLength), at.bloom)
  bytes.set(new Uint8Array(bloom2.buffer, bloom2.byteOffset, bloom2.byteLength), at.bloom2)
  bytes.set(new Uint8Array(coarse.buffer, coarse.byteOffset, coarse.byteLength), at.coarse)
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
  /// The coarse bitmap (coarseBloom) of the 4-byte anchors.
  readonly coarse: number
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
          return { memory: shared, shared: true, bloom: at.bloom, bloom2: at.bloom2, coarse: at.coarse, slot: at.slots + k * SLOT_BYTES }
        }
      }
    }
  }
  const memory = new wasm.Memory({ initial: at.bytes(1) / PAGE })
  writeFilters(memory, at, bloom, bloom2)
  return { memory, shared: false, bloom: at.bloom, bloom2: at.bloom2, coarse: at.coarse, slot: at.slots }
}
