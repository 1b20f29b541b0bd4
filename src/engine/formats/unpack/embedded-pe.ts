/// Programs carried as data inside what an unpacker rebuilt. A packer compresses a whole program, and
/// when that program holds another executable (a dropper, or clamav-testfiles' packers, which pack a
/// program that holds clam.exe), the unpacked image holds it byte for byte at some offset. ClamAV
/// finds such embedded PEs while it scans an unpacked image raw (its "embedded PE" carving) and scans
/// each as a file of its own, so a hash signature of the inner program matches; this does the same,
/// only on unpacked images (not on every object: a pass over every body would cost the scan path).
/// A candidate is an `MZ` whose `e_lfanew` leads to a PE header readPe accepts; its size is where its
/// last section's raw data ends, clamped to the image.
import { readPe } from '../../executable/pe.js'
import type { Unpacked } from './unpacker.js'

/// Enough for droppers that carry a handful of programs; a hostile image full of `MZ` stays cheap.
const maxCarved = 16
const maxCandidates = 4096
const mz = Buffer.from('MZ', 'latin1')

/// `offsetBase`: where `image` starts in what the names should count from (a file's tail); at 0 the
/// image's own header is not a candidate.
export function carveEmbeddedPes (image: Uint8Array, name: string, offsetBase = 0): Unpacked[] {
  const found: Unpacked[] = []
  const haystack = Buffer.from(image.buffer, image.byteOffset, image.byteLength)
  let candidates = 0
  for (let at = haystack.indexOf(mz, offsetBase === 0 ? 1 : 0); at !== -1 && found.length < maxCarved && candidates < maxCandidates; at = haystack.indexOf(mz, at + 1)) {
    candidates++
    const rest = image.subarray(at)
    const layout = readPe(rest)
    if (typeof layout === 'string' || layout.overlayOffset <= 0) continue
    found.push({ name: `${name}@${offsetBase + at}.exe`, bytes: rest.subarray(0, layout.overlayOffset) })
    at += layout.overlayOffset - 1
  }
  return found
}
