/// The 7-Zip backend (npm 7z-wasm: 7-Zip 24 compiled to WebAssembly, no native code, no download at
/// install) for the formats whose codecs have no maintained pure-JS decoder: 7z (LZMA/LZMA2/PPMd/BCJ),
/// RAR 4 and 5, CAB (MSZIP/LZX/Quantum), ARJ, LZH, CHM (LZX), ISO 9660, LZMA-alone, SZDD, and the zip
/// methods node:zlib lacks (deflate64, implode, LZMA, PPMd).
///
/// How the limits hold inside a synchronous wasm call: the archive is listed first (`l -slt`) for
/// names, declared sizes and encryption flags; then `x -so` writes every member, in listing order, to
/// stdout, whose write op (taken over, see chunkedStdout) fills one ChildSink per member by declared
/// size. Every write (at most 1 MiB) is accounted with the budget and checks the abort flag; on a
/// refusal the write fails with EIO, and 7-Zip stops decoding. So a bomb or a cancelled scan stops
/// within one block.
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import SevenZipImport, { type SevenZipModule, type SevenZipModuleFactory, type SevenZipModuleOptions } from '7z-wasm'
import type { ByteSource } from '../source.js'
import { MemorySource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { ChildSink } from './sink.js'
import type { FormatHandler, Layer } from './registry.js'
import type { FileType } from '../filetype.js'

interface Entry { path: string, size: number | undefined, encrypted: boolean, dir: boolean }

interface Listing { type: string | undefined, entries: Entry[], error: string | undefined }

/// Where the module's stdout goes during the current call: the listing text or member data.
/// Returning false makes the write fail with EIO.
interface Router { onChunk: (bytes: Uint8Array) => boolean }

/// One 7-Zip instance per worker thread (instantiating costs ~50 ms); calls are synchronous, so the
/// one-scan-per-worker model means no two calls overlap. Rebuilt when its memory grew large.
const cache: { module?: Promise<SevenZipModule>, wasm?: Promise<object>, router: Router, errors: string[], memory: () => number } = {
  router: { onChunk: () => true },
  errors: [],
  memory: () => 0,
}

const recycleAboveBytes = 256 * 1024 * 1024

async function instance (): Promise<SevenZipModule> {
  if (cache.module !== undefined) {
    const mod = await cache.module
    if (cache.memory() < recycleAboveBytes) return mod
  }
  // Compiling the 1.6 MB module is most of the start-up cost: once per thread, then instantiate.
  cache.wasm ??= readFile(wasmFile).then(async bytes => await wasmApi.compile(bytes))
  const wasm = cache.wasm
  const created = SevenZip({
    instantiateWasm: (imports: object, done: (instance: object) => void) => {
      void wasm.then(async m => await wasmApi.instantiate(m, imports)).then(done)
      return {}
    },
    stdout: (byte: number) => { cache.router.onChunk(Uint8Array.of(byte)) },
    print: () => {},
    printErr: (line: string) => { if (cache.errors.length < 100) cache.errors.push(line) },
    stdin: () => null as unknown as number, // no password prompts: EOF
  } as Partial<SevenZipModuleOptions>)
  cache.module = created
  const mod = await created
  chunkedStdout(mod)
  const heap = (mod as unknown as { HEAPU8?: Uint8Array }).HEAPU8
  cache.memory = () => (mod as unknown as { HEAPU8?: Uint8Array }).HEAPU8?.byteLength ?? heap?.byteLength ?? 0
  return mod
}

// The package is CommonJS typed as an ES default export: at run time the default import is the factory.
const SevenZip = ((SevenZipImport as unknown as { default?: SevenZipModuleFactory }).default ?? SevenZipImport) as unknown as SevenZipModuleFactory

interface FsStream { stream_ops: Record<string, unknown> }
interface FsExtras { getStream?: (fd: number) => FsStream | undefined, ErrnoError?: new (errno: number) => Error }

/// Emscripten hands stdout to the callback one byte at a time; taking over the stream's write op
/// gets whole buffers (up to 1 MiB), ~8x faster. Without those internals the byte path still works.
function chunkedStdout (mod: SevenZipModule): void {
  const fs = mod.FS as unknown as FsExtras
  const stream = fs.getStream?.(1)
  const ErrnoError = fs.ErrnoError
  if (stream === undefined || ErrnoError === undefined) return
  stream.stream_ops = {
    ...stream.stream_ops,
    // The buffer is emscripten's HEAP8 (signed): view the same bytes unsigned.
    write: (_stream: unknown, buffer: Int8Array, offset: number, length: number): number => {
      if (!cache.router.onChunk(new Uint8Array(buffer.buffer, buffer.byteOffset + offset, length))) throw new ErrnoError(29) // EIO
      return length
    },
  }
}

/// The WebAssembly global (typed by lib.dom, which this project does not load), as far as used here.
interface WasmApi { compile: (bytes: Uint8Array) => Promise<object>, instantiate: (module: object, imports: object) => Promise<object> }
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

const wasmFile = join(dirname(createRequire(import.meta.url).resolve('7z-wasm')), '7zz.wasm')

const workDir = '/scan'
const input = `${workDir}/in`

function run (mod: SevenZipModule, args: string[]): void {
  // Emscripten's exit path sets process.exitCode to 7-Zip's status: keep ours.
  const exitCode = process.exitCode
  try {
    mod.callMain(args)
  } catch (err) {
    // 7-Zip exits through an ExitStatus exception on some errors (the listing and sinks say what
    // was produced); anything else (a wasm trap) leaves the instance unusable: build a new one.
    if ((err as { name?: string } | undefined)?.name !== 'ExitStatus') delete cache.module
  } finally {
    process.exitCode = exitCode
  }
}

function list (mod: SevenZipModule): Listing {
  const parts: Buffer[] = []
  let size = 0
  cache.errors = []
  cache.router = {
    onChunk: b => {
      if (size < 16 * 1024 * 1024) { parts.push(Buffer.from(b)); size += b.length }
      return true
    },
  }
  // -p: a wrong password instead of a prompt; encrypted members are reported, not opened.
  run(mod, ['l', '-slt', '-pscanwall', '-sccUTF-8', input])
  const text = Buffer.concat(parts).toString('utf8')
  const split = text.indexOf('\n----------')
  const head = split === -1 ? text : text.slice(0, split)
  const type = /^Type = (.+)$/m.exec(head)?.[1]?.trim()
  const entries: Entry[] = []
  if (split !== -1) {
    for (const block of text.slice(split + 11).split(/\r?\n\r?\n/)) {
      const field = (name: string): string | undefined => new RegExp(`^${name} = (.*)$`, 'm').exec(block)?.[1]?.trim()
      // Single-stream formats (LZMA-alone, xz) list a member without a Path line.
      if (!/^\w[\w ]* = /m.test(block)) continue
      const path = field('Path') ?? ''
      const size = field('Size')
      entries.push({
        path,
        size: size === undefined || size === '' ? undefined : Number(size),
        encrypted: field('Encrypted') === '+',
        dir: field('Folder') === '+' || (field('Attributes') ?? '').startsWith('D'),
      })
    }
  }
  const error = /(Can not open encrypted archive|Wrong password|Cannot open the file as archive|Can not open the file as archive)/i.exec(`${text}\n${cache.errors.join('\n')}`)?.[1]
  return { type, entries, error }
}

/// Splits `x -so` output into members by their declared sizes; every chunk 7-Zip writes (up to
/// 1 MiB) is accounted before it is kept.
class Splitter {
  readonly #budget: ScanBudget
  readonly #sizes: readonly number[]
  readonly #packed: number
  readonly sinks: ChildSink[] = []
  #index = 0
  #left: number
  stopped = false

  constructor (budget: ScanBudget, sizes: readonly number[], packed: number) {
    this.#budget = budget
    this.#sizes = sizes
    this.#packed = packed
    this.#left = sizes[0] ?? Number.POSITIVE_INFINITY
    this.sinks.push(new ChildSink(budget, packed))
  }

  /// False once the budget refused: the caller makes 7-Zip see an I/O error, and it stops decoding.
  chunk (bytes: Uint8Array): boolean {
    if (this.stopped) return false
    let at = 0
    while (at < bytes.length) {
      while (this.#left === 0) {
        this.#index++
        this.#left = this.#sizes[this.#index] ?? Number.POSITIVE_INFINITY
        this.sinks.push(new ChildSink(this.#budget, this.#packed))
      }
      const take = Math.min(this.#left, bytes.length - at)
      const sink = this.sinks[this.sinks.length - 1] as ChildSink
      // A member past MaxFileSize is dropped and decoding goes on with the next one.
      if (sink.ok) sink.write(bytes.slice(at, at + take))
      at += take
      this.#left -= take
      if (!this.#budget.alive()) { this.stopped = true; return false }
    }
    return true
  }
}

async function wholeInput (source: ByteSource): Promise<Uint8Array> {
  return source instanceof MemorySource ? source.bytes : await source.read(0, source.size)
}

/// Lists and extracts an archive with 7-Zip; `label` names the format in Heuristics.Encrypted.<label>.
/// `accept`, when given, filters by the archive type 7-Zip found (installers inside executables).
export async function * sevenZipExtract (source: ByteSource, budget: ScanBudget, label: string, fallbackName = 'content', accept?: (type: string) => boolean): AsyncIterable<Layer> {
  if (!budget.alive()) return
  const mod = await instance()
  const bytes = await wholeInput(source)
  try { mod.FS.mkdir(workDir) } catch { /* exists */ }
  mod.FS.writeFile(input, bytes)
  let sinks: ChildSink[] = []
  let names: string[] = []
  try {
    const listing = list(mod)
    if (accept !== undefined && (listing.type === undefined || !accept(listing.type))) return
    if (listing.error !== undefined && /encrypted|password/i.test(listing.error)) budget.report(`Heuristics.Encrypted.${label}`, 'encrypted')
    if (listing.entries.some(e => e.encrypted)) budget.report(`Heuristics.Encrypted.${label}`, 'encrypted')
    const members = listing.entries.filter(e => !e.dir)
    // Declared sizes are checked before decoding; oversized members are skipped (MaxFileSize).
    const files = members.filter(e => !e.encrypted && (e.size === undefined || budget.admits(e.size)))
    if (files.length === 0 || !budget.alive()) return
    const known = files.every(f => f.size !== undefined)
    // Unknown sizes (single-stream formats such as LZMA-alone or SZDD): one member per call.
    const groups = known || files.length === 1 ? [files] : files.map(f => [f])
    for (const group of groups) {
      const splitter = new Splitter(budget, group.map(f => f.size ?? Number.POSITIVE_INFINITY), source.size)
      cache.router = { onChunk: b => splitter.chunk(b) }
      const args = ['x', '-so', '-y', '-pscanwall', '-spd', input]
      if (groups.length > 1 || files.length < members.length) args.push('--', ...group.map(f => f.path))
      run(mod, args)
      sinks.push(...splitter.sinks)
      names.push(...group.map(f => f.path))
      if (splitter.stopped) break
    }
  } finally {
    cache.router = { onChunk: () => true }
    try { mod.FS.unlink(input) } catch { /* gone */ }
  }
  const layers: Layer[] = []
  sinks.forEach((sink, i) => {
    const layer = sink.layer(memberName(names[i], fallbackName))
    if (layer !== undefined) layers.push(layer)
  })
  sinks = []
  names = []
  let i = 0
  try {
    for (; i < layers.length; i++) yield layers[i] as Layer
  } finally {
    // Children not reached (the walk stopped early) must still give their temp files back.
    for (const l of layers.slice(i + 1)) l.release?.()
  }
}

/// Member paths are archive-relative; a member without a name (single-stream formats) takes the
/// format's fallback name.
function memberName (path: string | undefined, fallback: string): string {
  if (path === undefined || path === '' || path === 'in' || path === 'in~') return fallback
  return path.replace(/^\/+/, '')
}

/// A handler whose whole job is the 7-Zip backend.
export function sevenZipHandler (type: FileType, label: string, fallbackName?: string): FormatHandler {
  return { type, extract: (source, budget) => sevenZipExtract(source, budget, label, fallbackName) }
}
