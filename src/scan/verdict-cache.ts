/// The clean-verdict cache (issue #11, item 4): an object whose exact content was already scanned
/// clean under the same signature version and limits is answered without scanning it again, on the
/// calling thread, before any hand-off to the pool (clamd has the same idea: its cache answered a
/// repeat scan of a 200 MB corpus in 0.9 s instead of 15.8 s).
///
/// Key: SHA-256 of the whole content plus its size, under a scope (signature version + limits)
/// whose change, and any reload, empties the cache. SHA-256 because the key decides that an object
/// is *not* scanned: a key an attacker can collide (MD5, as ClamAV uses; SHA-1; any fast
/// non-cryptographic hash such as xxHash) lets a malicious object ride on a clean one's entry.
/// Node's `crypto.hash` runs it at ~1 GB/s here (1.0 ms per MiB of CPU, measured on this 2-vCPU
/// VM under load), which would be 10-40 % of a 1 MiB scan if every body paid for it.
///
/// So most bodies never do: admission on the second sighting (a "doorkeeper", as in TinyLFU). The
/// first time a body is seen only a fingerprint of a few sampled bytes (size, head, middle, tail:
/// 768 bytes, a few µs) is remembered; only a body whose fingerprint was seen before is hashed in
/// full, scanned on a miss, and its clean verdict stored. Unique bodies (most web traffic) cost the
/// fingerprint; the third and later sightings of a body are answered from the cache. The
/// fingerprint only decides whether to pay for the hash: a fingerprint collision costs a hash,
/// never a missed scan.
///
/// Bounded: at most maxEntries verdicts and maxBytes of estimated memory (key, entry, Map slot),
/// least recently used first out; the doorkeeper holds as many fingerprints as the cache holds
/// entries (~80 bytes each, not counted in maxBytes), oldest first out. Only verdicts that are clean with no finding at all are stored, never
/// infected, limit, encrypted, broken, error, timeout or aborted ones.
///
/// Spooled bodies can come with their SHA-256 already computed: the sink hashes while the body
/// arrives when `admitsHash` says its head (digest of the first 16 KiB, and the declared size) was
/// seen before (spool-hash.ts). Such a body skips the fingerprint and the file read: the key is
/// looked up at once, and a miss is stored (the hash is paid for already).
import { createHash, hash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import type { BodySource } from './body.js'
import type { ObjectFacts, Verdict } from '../engine/verdict.js'
import { BoundedSet, OldestKeys } from './oldest-first.js'

type MemoryBody = Extract<BodySource, { kind: 'memory' }>
type FileBody = Extract<BodySource, { kind: 'file' }>

export interface VerdictCacheOptions {
  readonly maxEntries: number
  readonly maxBytes: number
  /// Bodies smaller than this are not cached: matching them is about as cheap as hashing them.
  readonly minBytes: number
}

/// What a stored clean verdict keeps: its stats (objects and bytes the first scan walked), and the
/// walk's facts (true types, signatures): the policy decides on them too, so a cached clean must
/// carry them or an unsigned program would pass on its second sighting. `size`: its estimated bytes.
interface Entry { readonly objects: number, readonly bytes: number, readonly depth: number, readonly facts: ObjectFacts | undefined, readonly size: number }

/// Estimated bytes of a facts object (shared with the verdict, bounded by the engine).
const factsBytes = (facts: ObjectFacts | undefined): number => facts === undefined ? 0 : 64 + facts.types.length * 24 + facts.code.length * 160

/// Estimated bytes per entry besides its key: the Entry object, the Map slot, the string header.
const entryOverheadBytes = 120
/// Bytes sampled for the fingerprint at each of the head, the middle and the tail.
const sampleBytes = 256

export interface CacheLookup {
  /// The cached verdict, when the body was scanned clean before.
  readonly verdict?: Verdict
  /// Call with the scan's verdict to store it when clean (absent: the body is not admitted).
  readonly store?: (verdict: Verdict) => void
}

export class VerdictCache {
  readonly #options: VerdictCacheOptions
  readonly #entries = new Map<string, Entry>()
  readonly #lru = new OldestKeys<string>(() => this.#entries.keys())
  /// Fingerprints as numbers: a Set of strings cost a string, its hash and radix conversions per body.
  readonly #seen: BoundedSet<number>
  /// Heads of spooled bodies seen (spool-hash.ts): a second one is hashed while it arrives.
  readonly #heads: BoundedSet<string>
  #scope = ''
  /// Bumped by every clear(): a scan that started before a reload must not store its verdict after it.
  #generation = 0
  #bytes = 0
  hits = 0
  misses = 0
  /// Bodies seen for the first time (fingerprint only, not hashed).
  firstSightings = 0
  stores = 0
  /// Time spent looking up memory bodies (fingerprint, doorkeeper, the SHA-256 of a second sighting,
  /// the map), ms: the cache's own cost on the calling thread, timed in place (that path is
  /// synchronous, so this is its CPU unless the thread was preempted). A spooled body's lookup waits
  /// on file reads and is not counted.
  lookupMs = 0

  constructor (options: VerdictCacheOptions) {
    this.#options = options
    this.#seen = new BoundedSet(options.maxEntries)
    this.#heads = new BoundedSet(options.maxEntries)
  }

  /// Whether a body of this size is looked up at all (callers skip the await for small ones).
  wants (size: number): boolean { return size >= this.#options.minBytes }

  get entries (): number { return this.#entries.size }
  /// Estimated memory held by the entries (bounded by maxBytes).
  get bytes (): number { return this.#bytes }

  /// Signature version and limits; a different scope (a reload) empties the cache and the doorkeeper.
  setScope (scope: string): void {
    if (scope === this.#scope) return
    this.#scope = scope
    this.clear()
  }

  clear (): void {
    this.#entries.clear()
    this.#seen.clear()
    this.#heads.clear()
    this.#bytes = 0
    this.#generation++
  }

  /// Whether a spooled body whose head digest (and declared size) is this one is worth hashing whole
  /// while it arrives: yes when the same head was seen before. The first sighting is remembered.
  admitsHash (headDigest: string, expectedSize: number | undefined): boolean {
    return !this.#heads.add(`${expectedSize ?? '-'}:${headDigest}`)
  }

  /// Looks a body up. A first sighting is remembered by fingerprint and returns nothing to do.
  async lookup (body: BodySource): Promise<CacheLookup> {
    if (body.kind === 'memory') return this.lookupMemory(body)
    const generation = this.#generation
    if (body.sha256 !== undefined) return this.#find(keyOf(body.size, body.sha256), generation)
    if (this.#firstSighting(await fileFingerprint(body))) return {}
    return this.#find(await fileKey(body), generation)
  }

  /// lookup() of a memory body, without a promise: the inline leaf scan after it then runs in the
  /// same turn (ScanService.scan; two awaits per 64 KiB body were two microtask hops).
  lookupMemory (body: MemoryBody): CacheLookup {
    // Synchronous from here to the answer, so the time it takes is the cache's own CPU.
    const started = performance.now()
    const found = this.#lookupMemoryNow(body)
    this.lookupMs += performance.now() - started
    return found
  }

  #lookupMemoryNow (body: MemoryBody): CacheLookup {
    const bytes = new Uint8Array(body.bytes, 0, body.size)
    if (this.#firstSighting(memoryFingerprint(bytes))) return {}
    return this.#find(keyOf(body.size, hash('sha256', bytes, 'base64')), this.#generation)
  }

  /// Remembers a fingerprint; true (nothing more to do) when it was not seen before.
  #firstSighting (print: number): boolean {
    if (!this.#seen.add(print)) return false
    this.firstSightings++
    return true
  }

  #find (key: string, generation: number): CacheLookup {
    const entry = this.#entries.get(key)
    if (entry !== undefined && generation === this.#generation) {
      this.hits++
      // Most recently used last: Map iteration order is insertion order.
      this.#entries.delete(key)
      this.#entries.set(key, entry)
      const stats = { objects: entry.objects, bytes: entry.bytes, depth: entry.depth, ms: 0 }
      return { verdict: { status: 'clean', findings: [], stats, ...(entry.facts === undefined ? {} : { facts: entry.facts }) } }
    }
    this.misses++
    return { store: verdict => { if (generation === this.#generation) this.#store(key, verdict) } }
  }

  #store (key: string, verdict: Verdict): void {
    if (verdict.status !== 'clean' || verdict.findings.length > 0 || verdict.error !== undefined) return
    const size = key.length * 2 + entryOverheadBytes + factsBytes(verdict.facts)
    if (size > this.#options.maxBytes || this.#entries.has(key)) return
    this.#entries.set(key, { objects: verdict.stats.objects, bytes: verdict.stats.bytes, depth: verdict.stats.depth, facts: verdict.facts, size })
    this.#bytes += size
    this.stores++
    while (this.#entries.size > this.#options.maxEntries || this.#bytes > this.#options.maxBytes) {
      const oldest = this.#lru.next() as string
      const evicted = this.#entries.get(oldest) as Entry
      this.#entries.delete(oldest)
      this.#bytes -= evicted.size
    }
  }
}

/// Size plus a few sampled bytes from the head, the middle and the tail (`bytes` from each start to
/// its end), folded into two 32-bit FNV-1a-style sums and returned as one 53-bit integer. Its
/// collisions only cost a SHA-256, so it need not be cryptographic. bench-icap and real traffic
/// differ at the head (a nonce, a format's header) or in size. One loop, read in place, a number for
/// the doorkeeper: with three subarrays, a string key (two radix conversions) and its hashing, the
/// lookup of a unique 64 KiB body cost ~14 µs in the node's profile (~2.5 % of its I/O thread).
function fingerprintOf (size: number, bytes: Uint8Array, starts: readonly number[], ends: readonly number[]): number {
  let a = 0x811c9dc5
  let b = 0x01000193 ^ size
  for (let s = 0; s < starts.length; s++) {
    const to = ends[s]!
    for (let i = starts[s]!; i < to; i++) {
      const x = bytes[i]!
      a = Math.imul(a ^ x, 0x01000193)
      b = Math.imul(b ^ x, 0x5bd1e995) ^ (b >>> 15)
    }
  }
  // The size again in the low bits: a body of another size is another body whatever its samples.
  return (a >>> 0) * 0x200000 + (((b ^ Math.imul(size, 0x9e3779b1)) >>> 0) & 0x1fffff)
}

/// Where the samples start: the head, the middle and the tail.
const sampleOffsets = (size: number): readonly number[] => [0, Math.max(0, (size >> 1) - (sampleBytes >> 1)), Math.max(0, size - sampleBytes)]

function memoryFingerprint (bytes: Uint8Array): number {
  const starts = sampleOffsets(bytes.length)
  return fingerprintOf(bytes.length, bytes, starts, starts.map(from => Math.min(bytes.length, from + sampleBytes)))
}

/// The same fingerprint as memoryFingerprint, from the samples read into one buffer.
async function fileFingerprint (body: FileBody): Promise<number> {
  const file = await open(body.path, 'r')
  try {
    const samples = new Uint8Array(3 * sampleBytes)
    const starts: number[] = []
    const ends: number[] = []
    for (const from of sampleOffsets(body.size)) {
      const at = starts.length * sampleBytes
      const { bytesRead } = await file.read(samples, at, sampleBytes, from)
      starts.push(at)
      ends.push(at + bytesRead)
    }
    return fingerprintOf(body.size, samples, starts, ends)
  } finally {
    await file.close()
  }
}

/// The cache key: the size and the SHA-256 (base64) of the whole content.
const keyOf = (size: number, sha256: string): string => size === 0 ? '0:' : `${size}:${sha256}`

/// SHA-256 of a spooled body's whole content and its size.
async function fileKey (body: FileBody): Promise<string> {
  if (body.size === 0) return '0:'
  const h = createHash('sha256')
  for await (const chunk of createReadStream(body.path, { end: body.size - 1, highWaterMark: 1 << 20 })) h.update(chunk as Buffer)
  return keyOf(body.size, h.digest('base64'))
}
