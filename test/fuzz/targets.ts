/// The fuzz targets: every engine format with a handler, and the protocol parsers (ICAP, clamd,
/// milter). To add a parser, write targets/<name>.ts exporting a TargetKind (seeds + runner) and list it here.
import { engineTarget } from './targets/engine.js'
import { icapTarget } from './targets/icap.js'
import { clamdTarget } from './targets/clamd.js'
import { milterTarget } from './targets/milter.js'
import type { TargetKind } from './target.js'

export const targetKinds: readonly TargetKind[] = [engineTarget, icapTarget, clamdTarget, milterTarget]

/// Every row name, in table order.
export const allTargetNames: readonly string[] = targetKinds.flatMap(k => k.names)

export function kindOf (name: string): TargetKind | undefined {
  return targetKinds.find(k => k.names.includes(name))
}
