/// ELF executables: only packed ones have children (unpack/executable.ts: UPX's ELF format); an
/// ordinary program yields nothing and is matched as it is.
import type { FormatHandler, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { unpackExecutable } from './unpack/executable.js'

function extract (source: ByteSource, budget: ScanBudget): AsyncIterable<Layer> {
  return unpackExecutable(source, budget)
}

export const elfHandler: FormatHandler = { type: 'elf', extract }
