/// Windows executables: the archives installers carry and the programs packers hide. 7-Zip (the wasm
/// backend, see sevenzip.ts) finds an embedded archive (NSIS installers, InstallShield and other
/// cabinet self-extractors, 7z/RAR/zip/ARJ SFX stubs); plain executables (7-Zip type "PE") yield
/// nothing from it, so their sections are not re-scanned. Then the unpackers (unpack/executable.ts:
/// UPX, AutoIt, …) yield what a packed program unpacks to.
import type { FormatHandler, HandlerEnv, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'
import { unpackExecutable } from './unpack/executable.js'

const installers = new Set(['Nsis', 'Cab', '7z', 'Rar', 'Rar5', 'zip', 'Arj'])

async function * extract (source: ByteSource, budget: ScanBudget, env: HandlerEnv): AsyncIterable<Layer> {
  yield * env.sevenZip.extract(source, budget, 'SFX', 'sfx-content', type => installers.has(type))
  if (budget.alive()) yield * unpackExecutable(source, budget)
}

export const peHandler: FormatHandler = { type: 'pe', extract }
