/// FormatHandler registry: one handler per container or encoding, chosen by detected type.
/// Adding a format is adding one file and one line here.
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import type { FileType } from '../filetype.js'
import { gzipHandler } from './gzip.js'

/// One extracted child: its name within the parent and its bytes.
export interface Layer {
  readonly name: string
  readonly source: ByteSource
}

export interface FormatHandler {
  readonly type: FileType
  /// Yields children; must account every produced byte with budget.consume() as it goes and stop
  /// when that returns false. A broken container ends the iteration (the walk records it).
  extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer>
}

export const handlers: ReadonlyMap<FileType, FormatHandler> = new Map([gzipHandler].map(h => [h.type, h]))
