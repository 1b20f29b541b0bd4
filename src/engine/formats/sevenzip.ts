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
///
/// No process-wide mutable state: each Engine owns one SevenZipBackend (its wasm instance, where
/// stdout goes, stderr lines). The compiled wasm code is shared by the thread's backends because it
/// is immutable. A 7-Zip error that is not ours (the budget did not stop it) is a damaged archive:
/// Heuristics.Broken.<label> with 7-Zip's own message, and the members decoded before it still count.
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { SevenZipModule, SevenZipModuleFactory, SevenZipModuleOptions } from '7z-wasm'
import type { ByteSource } from '../source.js'
import { MemorySource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import type { ChildSink } from './sink.js'
import type { FormatHandler, Layer } from './registry.js'
import type { FileType } from '../filetype.js'
import { parseListing, Splitter, type Listing } from './sevenzip-output.js'

/// Where the module's stdout goes during the current call: the listing text or member data.
/// Returning false makes the write fail with EIO.
type Route = (bytes: Uint8Array) => boolean

/// The instance's exports this file reads: its linear memory, and the C stack pointer (see #run).
interface WasmExports {
  memory?: { buffer: ArrayBuffer }
  emscripten_stack_get_current?: () => number
  _emscripten_stack_restore?: (pointer: number) => void
}

export interface SevenZipOptions {
  /// The instance is rebuilt before a call once its linear memory is larger than this (a long-lived
  /// instance keeps the high-water mark of its biggest archive). Tests lower it to force rebuilds.
  readonly recycleAboveBytes?: number
}

const defaultRecycleAboveBytes = 256 * 1024 * 1024

/// The glue is imported on first use, like every format module (registry.ts says why): every engine
/// has a backend, few scans need it. The package is CommonJS typed as an ES default export: at run
/// time the default import is the factory.
async function factory (): Promise<SevenZipModuleFactory> {
  const imported = (await import('7z-wasm')) as unknown as { default: SevenZipModuleFactory & { default?: SevenZipModuleFactory } }
  return imported.default.default ?? imported.default
}

interface FsStream { stream_ops: Record<string, unknown> }
/// Emscripten's FS.writeFile, with the canOwn option the package's typings leave out.
type WriteFile = (path: string, data: Uint8Array, opts: { canOwn: boolean }) => void
interface FsExtras { getStream?: (fd: number) => FsStream | undefined, ErrnoError?: new (errno: number) => Error }

/// The WebAssembly global (typed by lib.dom, which this project does not load), as far as used here.
interface WasmApi { compile: (bytes: Uint8Array) => Promise<object>, instantiate: (module: object, imports: object) => Promise<object> }
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

const wasmFile = (): string => join(dirname(createRequire(import.meta.url).resolve('7z-wasm')), '7zz.wasm')

/// Compiling the 1.6 MB module is most of the start-up cost: once per thread. Compiled code holds no
/// state of a call (every instance gets its own memory), so sharing it shares nothing mutable.
let compiled: Promise<object> | undefined
const compiledWasm = (): Promise<object> => (compiled ??= readFile(wasmFile()).then(async bytes => await wasmApi.compile(bytes)))

const workDir = '/scan'
const input = `${workDir}/in`

/// 7-Zip's exit status, or 'trap' when the instance died (a wasm trap) and must be rebuilt.
type Status = number | 'trap'

/// One 7-Zip instance (instantiating costs ~50 ms), built on first use and rebuilt when its memory
/// grew large or it trapped. Calls are synchronous and one engine runs one scan at a time, so no two
/// calls on one backend overlap.
export class SevenZipBackend {
  readonly #recycleAboveBytes: number
  #module: Promise<SevenZipModule> | undefined
  #route: Route = () => true
  #errors: string[] = []
  /// The current instance's exports, set when it is instantiated.
  #exports: WasmExports = {}
  /// Instances built so far (the first one included): tests see a rebuild happen through it.
  instancesBuilt = 0

  constructor (options: SevenZipOptions = {}) {
    this.#recycleAboveBytes = options.recycleAboveBytes ?? defaultRecycleAboveBytes
  }

  /// Bytes of linear memory of the current instance (0 before the first). The glue does not export
  /// HEAPU8, so this reads the instance's own memory export.
  get memoryBytes (): number { return this.#exports.memory?.buffer.byteLength ?? 0 }

  /// Where the C stack pointer of the current instance is (undefined before the first).
  get stackPointer (): number | undefined { return this.#exports.emscripten_stack_get_current?.() }

  async #instance (): Promise<SevenZipModule> {
    if (this.#module !== undefined) {
      const mod = await this.#module
      if (this.memoryBytes <= this.#recycleAboveBytes) return mod
    }
    this.#module = this.#create()
    return await this.#module
  }

  async #create (): Promise<SevenZipModule> {
    const wasm = compiledWasm()
    const SevenZip = await factory()
    const mod = await SevenZip({
      instantiateWasm: (imports: object, done: (instance: object) => void) => {
        void wasm.then(async m => await wasmApi.instantiate(m, imports)).then(instance => {
          this.#exports = (instance as { exports: WasmExports }).exports
          done(instance)
        })
        return {}
      },
      stdout: (byte: number) => { this.#route(Uint8Array.of(byte)) },
      print: () => {},
      printErr: (line: string) => { if (this.#errors.length < 100) this.#errors.push(line) },
      stdin: () => null as unknown as number, // no password prompts: EOF
    } as Partial<SevenZipModuleOptions>)
    this.#chunkedStdout(mod)
    this.instancesBuilt++
    return mod
  }

  /// Emscripten hands stdout to the callback one byte at a time; taking over the stream's write op
  /// gets whole buffers (up to 1 MiB), ~8x faster. Without those internals the byte path still works.
  #chunkedStdout (mod: SevenZipModule): void {
    const fs = mod.FS as unknown as FsExtras
    const stream = fs.getStream?.(1)
    const ErrnoError = fs.ErrnoError
    if (stream === undefined || ErrnoError === undefined) return
    stream.stream_ops = {
      ...stream.stream_ops,
      // The buffer is emscripten's HEAP8 (signed): view the same bytes unsigned.
      write: (_stream: unknown, buffer: Int8Array, offset: number, length: number): number => {
        if (!this.#route(new Uint8Array(buffer.buffer, buffer.byteOffset + offset, length))) throw new ErrnoError(29) // EIO
        return length
      },
    }
  }

  #run (mod: SevenZipModule, args: string[], route: Route): Status {
    this.#route = route
    this.#errors = []
    // Emscripten's exit path writes 7-Zip's status into process.exitCode before it throws, and the
    // glue offers no hook to stop it: put ours back. The call is synchronous, so nothing else can
    // observe the borrowed value in between.
    const exitCode = process.exitCode
    // callMain was made to be called once: it leaves argv on the C stack, and when 7-Zip exits from
    // inside (exit() throws through its frames) the stack pointer stays where exit() was called. Each
    // call so left ~170 bytes below the last; after ~350 calls the 64 KiB stack ran into the data
    // below it, corrupting 7-Zip's globals (members lost, decoders looping) until a wasm trap rebuilt
    // the instance. Put the pointer back after every call.
    const stack = this.#exports.emscripten_stack_get_current?.()
    try {
      const status = (mod.callMain as unknown as (a: string[]) => unknown)(args)
      return typeof status === 'number' ? status : 0
    } catch (err) {
      // 7-Zip exits through an ExitStatus exception on some errors (the listing and sinks say what
      // was produced); anything else (a wasm trap) leaves the instance unusable: build a new one.
      const e = err as { name?: string, status?: number } | undefined
      if (e?.name === 'ExitStatus') return e.status ?? 2
      this.#module = undefined
      return 'trap'
    } finally {
      if (stack !== undefined) this.#exports._emscripten_stack_restore?.(stack)
      process.exitCode = exitCode
      this.#route = () => true
    }
  }

  #list (mod: SevenZipModule): Listing {
    const parts: Buffer[] = []
    let size = 0
    const route: Route = b => {
      if (size < 16 * 1024 * 1024) { parts.push(Buffer.from(b)); size += b.length }
      return true
    }
    // -p: a wrong password instead of a prompt; encrypted members are reported, not opened.
    this.#run(mod, ['l', '-slt', '-pscanwall', '-sccUTF-8', input], route)
    return parseListing(Buffer.concat(parts).toString('utf8'), this.#errors)
  }

  /// What 7-Zip said went wrong, for the finding (its ERROR lines, else its last words).
  #complaint (status: Status): string {
    const lines = this.#errors.map(l => l.trim()).filter(l => l !== '' && !/^(ERRORS|WARNINGS):$/.test(l))
    const errors = lines.filter(l => /error|unexpected|corrupt|crc|headers|data after/i.test(l))
    const text = (errors.length > 0 ? errors : lines).slice(0, 3).join('; ')
    return `7-Zip ${status === 'trap' ? 'trapped' : `exit ${status}`}${text === '' ? '' : `: ${text}`}`
  }

  /// Lists and extracts an archive; `label` names the format in Heuristics.Encrypted.<label> and
  /// Heuristics.Broken.<label>. `accept`, when given, filters by the archive type 7-Zip found
  /// (installers inside executables); what it rejects is no damaged archive.
  async * extract (source: ByteSource, budget: ScanBudget, label: string, fallbackName = 'content', accept?: (type: string) => boolean): AsyncIterable<Layer> {
    if (!budget.alive()) return
    const mod = await this.#instance()
    const bytes = source instanceof MemorySource ? source.bytes : await source.read(0, source.size)
    try { mod.FS.mkdir(workDir) } catch { /* exists */ }
    // canOwn: the in-memory file system keeps our buffer as the file's contents rather than a copy of
    // it (7-Zip only reads the file, and it is unlinked before we return).
    const writeFile = mod.FS.writeFile as unknown as WriteFile
    writeFile.call(mod.FS, input, bytes, { canOwn: true })
    const sinks: ChildSink[] = []
    const names: string[] = []
    try {
      const listing = this.#list(mod)
      if (accept !== undefined && (listing.type === undefined || !accept(listing.type))) return
      if (listing.error !== undefined && /encrypted|password/i.test(listing.error)) budget.report(`Heuristics.Encrypted.${label}`, 'encrypted')
      else if (listing.error !== undefined) budget.report(`Heuristics.Broken.${label}`, 'broken', `7-Zip: ${listing.error}`)
      if (listing.damage !== undefined) budget.report(`Heuristics.Broken.${label}`, 'broken', `7-Zip: ${listing.damage}`)
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
        const args = ['x', '-so', '-y', '-pscanwall', '-spd', input]
        if (groups.length > 1 || files.length < members.length) args.push('--', ...group.map(f => f.path))
        const status = this.#run(mod, args, b => splitter.chunk(b))
        sinks.push(...splitter.sinks)
        names.push(...group.map(f => f.path))
        if (splitter.stopped) break
        // 1 is a warning (junk after the archive, which 7-Zip and ClamAV skip); 2 and up failed.
        if (status === 'trap' || status >= 2) budget.report(`Heuristics.Broken.${label}`, 'broken', this.#complaint(status))
      }
    } finally {
      try { mod.FS.unlink(input) } catch { /* gone */ }
    }
    const layers: Layer[] = []
    sinks.forEach((sink, i) => {
      const layer = sink.layer(memberName(names[i], fallbackName))
      if (layer !== undefined) layers.push(layer)
    })
    let i = 0
    try {
      for (; i < layers.length; i++) yield layers[i] as Layer
    } finally {
      // Children not reached (the walk stopped early) must still give their temp files back.
      for (const l of layers.slice(i + 1)) l.release?.()
    }
  }
}

/// Member paths are archive-relative; a member without a name (single-stream formats) takes the
/// format's fallback name.
function memberName (path: string | undefined, fallback: string): string {
  if (path === undefined || path === '' || path === 'in' || path === 'in~') return fallback
  return path.replace(/^\/+/, '')
}

/// A handler whose whole job is the 7-Zip backend (the engine's, passed in the handler's env).
export function sevenZipHandler (type: FileType, label: string, fallbackName?: string): FormatHandler {
  return { type, extract: (source, budget, env) => env.sevenZip.extract(source, budget, label, fallbackName) }
}
