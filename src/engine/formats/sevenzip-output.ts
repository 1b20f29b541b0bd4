/// Reading 7-Zip's output (see sevenzip.ts): the `l -slt` listing parsed into entries, and the
/// `x -so` stream split into one ChildSink per member by declared size.
import type { ScanBudget } from '../budget.js'
import { ChildSink } from './sink.js'

export interface Entry { readonly path: string, readonly size: number | undefined, readonly encrypted: boolean, readonly dir: boolean }

export interface Listing {
  readonly type: string | undefined
  readonly entries: Entry[]
  /// The archive could not be opened (why, in 7-Zip's words).
  readonly error: string | undefined
  /// It opened, but 7-Zip listed ERRORS for it (unexpected end, headers error): a damaged archive.
  readonly damage: string | undefined
}

/// The listing text and 7-Zip's stderr lines, as names, declared sizes and flags.
export function parseListing (text: string, errors: readonly string[]): Listing {
  const split = text.indexOf('\n----------')
  const head = split === -1 ? text : text.slice(0, split)
  const type = /^Type = (.+)$/m.exec(head)?.[1]?.trim()
  const entries: Entry[] = []
  if (split !== -1) {
    for (const block of text.slice(split + 11).split(/\r?\n\r?\n/)) {
      const field = (name: string): string | undefined => new RegExp(`^${name} = (.*)$`, 'm').exec(block)?.[1]?.trim()
      // Single-stream formats (LZMA-alone, xz) list a member without a Path line.
      if (!/^\w[\w ]* = /m.test(block)) continue
      const size = field('Size')
      entries.push({
        path: field('Path') ?? '',
        size: size === undefined || size === '' ? undefined : Number(size),
        encrypted: field('Encrypted') === '+',
        dir: field('Folder') === '+' || (field('Attributes') ?? '').startsWith('D'),
      })
    }
  }
  const error = /(Can not open encrypted archive|Wrong password|Cannot open the file as archive|Can not open the file as archive)/i.exec(`${text}\n${errors.join('\n')}`)?.[1]
  const damage = /^ERRORS:\r?\n((?:.+\r?\n?)+?)(?:WARNINGS:|\r?\n|$)/m.exec(head)?.[1]?.trim().replace(/\r?\n/g, '; ')
  return { type, entries, error, damage }
}

/// Splits `x -so` output into members by their declared sizes; every chunk 7-Zip writes (up to
/// 1 MiB) is accounted before it is kept.
export class Splitter {
  readonly #budget: ScanBudget
  readonly #sizes: readonly number[]
  readonly #packed: number
  readonly sinks: ChildSink[] = []
  #index = 0
  #left: number
  /// The budget refused (a limit or a cancel), so 7-Zip was made to stop: its error is ours.
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
