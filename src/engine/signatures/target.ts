/// ClamAV target types ↔ Scanwall FileType. Targets 3 (HTML) and 7 (text) are matched against
/// normalised forms, not these types' raw bytes: the matcher applies them (matcher.ts begin:
/// normalised.ts for text, html-pass.ts for HTML, whose raw bytes get target 0 only).
import type { FileType } from '../filetype.js'
import type { Target } from './types.js'

const typesByTarget: ReadonlyMap<Target, readonly FileType[]> = new Map<Target, readonly FileType[]>([
  [1, ['pe']],
  [2, ['ole2']],
  [3, ['html']],
  [4, ['mail', 'mbox']],
  [5, ['graphics']],
  [6, ['elf']],
  [7, ['text']],
  [9, ['macho']],
  [10, ['pdf']],
  [11, ['swf']],
  [12, ['java-class']],
])

export function isKnownTarget (t: Target): boolean {
  return t === 0 || typesByTarget.has(t)
}

/// The targets a layer of this type satisfies, as a bit set (bit t set ⇒ target t applies; bit 0 always).
export function targetMask (type: FileType): number {
  let mask = 1
  for (const [t, types] of typesByTarget) if (types.includes(type)) mask |= 1 << t
  return mask
}
