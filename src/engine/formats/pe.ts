/// Windows executables that carry an archive: NSIS installers, InstallShield and other cabinet
/// self-extractors, 7z/RAR/zip/ARJ SFX stubs. 7-Zip (the wasm backend, see sevenzip.ts) finds the
/// embedded archive; plain executables (7-Zip type "PE") yield nothing, so their sections are not
/// re-scanned. Unpackers for UPX and friends are not written yet.
import type { FormatHandler, HandlerEnv, Layer } from './registry.js'
import type { ByteSource } from '../source.js'
import type { ScanBudget } from '../budget.js'

const installers = new Set(['Nsis', 'Cab', '7z', 'Rar', 'Rar5', 'zip', 'Arj'])

function extract (source: ByteSource, budget: ScanBudget, env: HandlerEnv): AsyncIterable<Layer> {
  return env.sevenZip.extract(source, budget, 'SFX', 'sfx-content', type => installers.has(type))
}

export const peHandler: FormatHandler = { type: 'pe', extract }
