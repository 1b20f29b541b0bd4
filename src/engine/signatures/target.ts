/// ClamAV target types ↔ Scanwall FileType. ClamAV normalises ASCII text (target 7) before matching;
/// this engine matches target-7 signatures on layers detected as text, unnormalised.
import type { FileType } from '../filetype.js'
import type { Target } from './types.js'

const typesByTarget: ReadonlyMap<Target, readonly FileType[]> = new Map<Target, readonly FileType[]>([
  [1, ['pe']],
  [2, ['ole2']],
  [3, ['html']],
  [4, ['mail', 'mbox']],
  [5, ['graphics']],
  [6, ['elf']],
  [7, ['text', 'html']],
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
