/// Seeded mutations of a well-formed seed: truncation, bit flips, byte runs, length/offset fields set
/// to 0 / max / 0xFFFFFFFF / negative / off by one, members duplicated and reordered, and stacks of
/// these. Every mutation but a reorder that moves an early member leaves bytes [0, protect) as they
/// were: the seed's EICAR member ends there, and the harness checks that it is still found.
import type { Field, Layout, Range } from './layout.js'
import type { Rng } from './prng.js'

export interface Mutant {
  readonly bytes: Buffer
  /// What was done, for the reproducer report ("length u32le@130=0xffffffff").
  readonly how: string
  /// Bytes [0, protect) are unchanged: damage lies only after the EICAR member.
  readonly keepsPrefix: boolean
}

export interface MutationInput {
  readonly seed: Buffer
  readonly layout: Layout
  /// First offset a prefix-keeping mutation may touch.
  readonly protect: number
}

type Mutator = (input: MutationInput, rng: Rng) => Mutant

const splice = (b: Buffer, at: number, remove: number, insert: Buffer): Buffer =>
  Buffer.concat([b.subarray(0, at), insert, b.subarray(at + remove)])

/// A random offset in the mutable region [protect, length).
const spot = (input: MutationInput, rng: Rng): number => rng.between(input.protect, input.seed.length - 1)

const truncate: Mutator = (input, rng) => {
  const at = rng.chance(0.2) ? input.seed.length - rng.between(1, 16) : spot(input, rng)
  const cut = Math.max(input.protect, at)
  return { bytes: input.seed.subarray(0, cut), how: `truncate@${cut}`, keepsPrefix: true }
}

const bitFlips: Mutator = (input, rng) => {
  const bytes = Buffer.from(input.seed)
  const flips: number[] = []
  for (let n = rng.between(1, 8); n > 0; n--) {
    const at = spot(input, rng)
    bytes[at] = (bytes[at] ?? 0) ^ (1 << rng.below(8))
    flips.push(at)
  }
  return { bytes, how: `bitflip@${flips.join(',')}`, keepsPrefix: true }
}

const byteRun: Mutator = (input, rng) => {
  const at = spot(input, rng)
  const length = rng.between(1, rng.chance(0.8) ? 64 : 4096)
  const fill = rng.pick([0x00, 0xff, 0x80, rng.below(256)]) ?? 0
  const run = rng.chance(0.3) ? Buffer.from(Array.from({ length }, () => rng.below(256))) : Buffer.alloc(length, fill)
  const insert = rng.chance(0.3)
  return { bytes: splice(input.seed, at, insert ? 0 : length, run), how: `${insert ? 'insert' : 'overwrite'}-run@${at}+${length}`, keepsPrefix: true }
}

const binaryValues = (width: number, current: number, size: number): bigint[] => {
  const max = (1n << BigInt(8 * width)) - 1n
  return [0n, max, 0xffffffffn & max, 1n << BigInt(8 * width - 1), max >> 1n, BigInt(current + 1) & max, BigInt(Math.max(0, current - 1)), BigInt(size) & max]
}

const textValues = ['0', '-1', '4294967295', '-2147483648', '99999999999', '18446744073709551615', '7fffffff']

function writeField (b: Buffer, f: Field, rng: Rng): { bytes: Buffer, value: string } {
  const bytes = Buffer.from(b)
  switch (f.enc) {
    case 'u16le': case 'u32le': case 'u64le': case 'u32be': {
      const current = f.enc === 'u16le' ? b.readUInt16LE(f.at) : f.enc === 'u32be' ? b.readUInt32BE(f.at) : b.readUInt32LE(f.at)
      const v = rng.pick(binaryValues(f.width, current, b.length)) ?? 0n
      for (let i = 0; i < f.width; i++) {
        const shift = BigInt(8 * (f.enc === 'u32be' ? f.width - 1 - i : i))
        bytes[f.at + i] = Number((v >> shift) & 0xffn)
      }
      return { bytes, value: `0x${v.toString(16)}` }
    }
    case 'octal': case 'hex': case 'dec': {
      const max = f.enc === 'octal' ? '7'.repeat(f.width) : f.enc === 'hex' ? 'f'.repeat(f.width) : '9'.repeat(f.width)
      const value = rng.pick([...textValues, max]) ?? '0'
      // Fixed-width fields (tar, cpio, ar) keep their width; free decimal runs may grow or shrink.
      const fixed = f.enc !== 'dec' || rng.chance(0.5)
      const text = fixed ? value.slice(0, f.width).padStart(f.width, f.enc === 'dec' ? ' ' : '0') : value
      return { bytes: splice(b, f.at, f.width, Buffer.from(text, 'latin1')), value: text }
    }
  }
}

const lengthField: Mutator = (input, rng) => {
  // Offsets come from the seed's layout; an earlier step may have shortened the bytes since.
  const usable = (fs: readonly Field[]): Field[] => fs.filter(f => f.at >= input.protect && f.at + f.width <= input.seed.length)
  const structural = usable(input.layout.fields)
  const f = (structural.length > 0 && rng.chance(0.8) ? rng.pick(structural) : rng.pick(usable(input.layout.generic)))
  if (f === undefined) return bitFlips(input, rng)
  const { bytes, value } = writeField(input.seed, f, rng)
  return { bytes, how: `length ${f.enc}@${f.at}=${value}`, keepsPrefix: true }
}

const duplicate: Mutator = (input, rng) => {
  const members = input.layout.members
  const m = rng.pick(members)
  const after = members.filter(x => x.end >= input.protect)
  const target = rng.pick(after)
  if (m === undefined || target === undefined) return byteRun(input, rng)
  const copies = rng.chance(0.1) ? rng.between(2, 64) : 1
  const copy = Buffer.concat(Array.from({ length: copies }, () => input.seed.subarray(m.start, m.end)))
  return { bytes: splice(input.seed, target.end, 0, copy), how: `duplicate ${m.start}-${m.end} x${copies} at ${target.end}`, keepsPrefix: true }
}

const reorder: Mutator = (input, rng) => {
  const members = input.layout.members
  if (members.length < 2) return truncate(input, rng)
  const i = rng.below(members.length - 1)
  const j = rng.chance(0.5) ? i + 1 : rng.between(i + 1, members.length - 1)
  const a = members[i] as Range
  const c = members[j] as Range
  const s = input.seed
  const bytes = Buffer.concat([s.subarray(0, a.start), s.subarray(c.start, c.end), s.subarray(a.end, c.start), s.subarray(a.start, a.end), s.subarray(c.end)])
  return { bytes, how: `swap ${a.start}-${a.end} with ${c.start}-${c.end}`, keepsPrefix: a.start >= input.protect }
}

const single: ReadonlyArray<readonly [string, Mutator]> = [
  ['truncate', truncate], ['bitflip', bitFlips], ['byterun', byteRun], ['length', lengthField],
  ['length', lengthField], ['duplicate', duplicate], ['reorder', reorder],
]

/// One case: a single mutation mostly, sometimes two or three stacked.
export function mutate (input: MutationInput, rng: Rng): Mutant {
  if (input.seed.length <= input.protect) return { bytes: input.seed, how: 'none (nothing after the protected prefix)', keepsPrefix: true }
  const steps = rng.chance(0.25) ? rng.between(2, 3) : 1
  let current: MutationInput = input
  const hows: string[] = []
  let keepsPrefix = true
  for (let i = 0; i < steps; i++) {
    const [, mutator] = single[rng.below(single.length)] ?? single[0] as readonly [string, Mutator]
    const out = mutator(current, rng)
    hows.push(out.how)
    keepsPrefix &&= out.keepsPrefix
    // Later steps still aim by the seed's layout: offsets may have shifted, which is more damage.
    current = { ...current, seed: out.bytes.length > current.protect ? out.bytes : current.seed }
    if (out.bytes.length <= input.protect) return { bytes: out.bytes, how: hows.join(' + '), keepsPrefix }
  }
  return { bytes: current.seed, how: hows.join(' + '), keepsPrefix }
}
