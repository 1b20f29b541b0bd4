/// Offsets of a byte pattern anywhere in a ByteSource, read in bounded chunks with an overlap of the
/// pattern's length, so handlers that hunt a marker (OneNote's FileDataStoreObject GUID) never hold
/// a whole large object in memory.
import type { ByteSource } from '../source.js'

const chunkSize = 1 << 20

/// Ascending offsets where `pattern` starts; stops early when `alive()` turns false.
export async function * findBytes (source: ByteSource, pattern: Uint8Array, alive: () => boolean, from = 0): AsyncIterable<number> {
  const overlap = pattern.length - 1
  for (let at = from; at + pattern.length <= source.size; at += chunkSize) {
    if (!alive()) return
    const window = Buffer.from(await source.read(at, chunkSize + overlap))
    for (let hit = window.indexOf(pattern); hit >= 0 && hit < chunkSize; hit = window.indexOf(pattern, hit + 1)) yield at + hit
  }
}
