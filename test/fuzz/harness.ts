/// The fuzz harness: builds every selected target's seeds once into a temp dir, then runs each
/// target's cases in its own child process (a fresh one per target, so each row's peak RSS is its
/// own), with a deadline of budget + grace per case. Counts crashes, hangs, and EICAR found or lost
/// where the damage lay after it; every failure keeps its case id, from which it is rebuilt.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FuzzChild } from './child-process.js'
import { writeSeeds } from './protocol.js'
import { caseId } from './prng.js'
import { allTargetNames, targetKinds } from './targets.js'
import type { TargetKind } from './target.js'

export interface FuzzOptions {
  /// Rows to run (formats, 'icap'); empty: all.
  readonly targets: readonly string[]
  readonly seed: number
  /// Cases per target; with `seconds`, whichever ends first.
  readonly cases?: number
  /// Wall time for the whole run, shared evenly between targets.
  readonly seconds?: number
  /// Run only this case number (reproduce a reported id).
  readonly caseNo?: number
  /// The first case number (cases run from here): a failure that needs the cases before it in the
  /// same child (state left in a decoder) reproduces from a little before it.
  readonly firstCase?: number
  readonly budgetMs: number
  readonly graceMs: number
  /// The child's V8 heap cap (--max-old-space-size): memory past it kills the child (a crash).
  readonly heapMb: number
  /// A child whose peak RSS passes this is a failure ('memory', charged to the case that raised the
  /// peak past it): the heap cap does not bound Buffers and wasm memory.
  readonly maxRssMb: number
  readonly onCase?: (target: string, end: CaseOutcome) => void
  /// Targets beyond the built-in list: their kinds (for seeds, here) and the module the child loads
  /// them from (for runners, there). The harness's self-check uses it.
  readonly extra?: { readonly kinds: readonly TargetKind[], readonly module: string }
}

export interface CaseOutcome { readonly id: string, readonly kind: 'ok' | 'crash' | 'hang' | 'lost' | 'memory', readonly variant: string, readonly how: string, readonly detail: string }

export interface Row {
  readonly target: string
  readonly seeds: number
  cases: number
  crashes: number
  hangs: number
  /// Cases whose damage lay after EICAR (checked) and those of them where EICAR was found (kept).
  checked: number
  kept: number
  peakRssKb: number
  /// The case that raised the peak RSS last (peaks only grow: that case holds the record).
  peakCase: string
  memory: number
  ms: number
}

export interface FuzzReport {
  readonly rows: readonly Row[]
  readonly failures: readonly CaseOutcome[]
  /// Selected rows without seeds (not fuzzed).
  readonly uncovered: readonly string[]
}

async function runTarget (target: string, seedDir: string, seeds: number, options: FuzzOptions, deadline: number): Promise<{ row: Row, failures: CaseOutcome[] }> {
  const row: Row = { target, seeds, cases: 0, crashes: 0, hangs: 0, checked: 0, kept: 0, peakRssKb: 0, peakCase: '', memory: 0, ms: 0 }
  const failures: CaseOutcome[] = []
  const started = Date.now()
  const spawn = async (): Promise<FuzzChild> => {
    const child = new FuzzChild(options.heapMb)
    await child.init({ seedDir, target, budgetMs: options.budgetMs, ...(options.extra === undefined ? {} : { extraKinds: options.extra.module }) })
    return child
  }
  let child = await spawn()
  const first = options.caseNo ?? options.firstCase ?? 0
  const last = options.caseNo ?? first + (options.cases ?? Number.MAX_SAFE_INTEGER) - 1
  try {
    for (let caseNo = first; caseNo <= last && (options.caseNo !== undefined || Date.now() < deadline); caseNo++) {
      if (!child.alive) child = await spawn()
      const id = caseId(target, options.seed, caseNo)
      const end = await child.run(options.seed, caseNo, options.budgetMs + options.graceMs)
      row.cases++
      let outcome: CaseOutcome
      if (end.kind === 'reply') {
        const r = end.reply
        const limitKb = options.maxRssMb * 1024
        const overLimit = r.maxRssKb > limitKb && row.peakRssKb <= limitKb
        if (r.maxRssKb > row.peakRssKb) { row.peakRssKb = r.maxRssKb; row.peakCase = id }
        const lost = r.outcome === 'ok' && r.checked && !r.kept
        if (r.checked) row.checked++
        if (r.checked && r.kept) row.kept++
        const kind = r.outcome === 'crash' ? 'crash' : overLimit ? 'memory' : lost ? 'lost' : 'ok'
        outcome = { id, kind, variant: r.variant, how: r.how, detail: kind === 'memory' ? `peak RSS ${Math.round(r.maxRssKb / 1024)} MiB over ${options.maxRssMb}: ${r.detail}` : r.detail }
      } else {
        outcome = { id, kind: end.kind === 'hang' ? 'hang' : 'crash', variant: '?', how: '?', detail: end.kind === 'hang' ? `no answer within ${options.budgetMs + options.graceMs} ms` : end.detail }
      }
      if (outcome.kind === 'crash') row.crashes++
      if (outcome.kind === 'hang') row.hangs++
      if (outcome.kind === 'memory') row.memory++
      if (outcome.kind !== 'ok') failures.push(outcome)
      options.onCase?.(target, outcome)
    }
  } finally {
    await child.close()
    row.ms = Date.now() - started
  }
  return { row, failures }
}

export async function runFuzz (options: FuzzOptions): Promise<FuzzReport> {
  const kinds = [...targetKinds, ...options.extra?.kinds ?? []]
  const names = kinds.flatMap(k => k.names)
  const unknown = options.targets.filter(t => !names.includes(t))
  if (unknown.length > 0) throw new Error(`unknown fuzz target(s) ${unknown.join(', ')}; known: ${allTargetNames.join(' ')}`)
  const selected = new Set(options.targets.length > 0 ? options.targets : allTargetNames)
  const seedDir = mkdtempSync(join(tmpdir(), 'scanwall-fuzz-'))
  try {
    const counts = new Map<string, number>()
    for (const kind of kinds) {
      const names = new Set(kind.names.filter(n => selected.has(n)))
      if (names.size === 0) continue
      const seeds = kind.seeds(names)
      for (const target of new Set(seeds.map(s => s.target))) {
        const own = seeds.filter(s => s.target === target)
        writeSeeds(seedDir, target, own)
        counts.set(target, own.length)
      }
    }
    const targets = names.filter(t => counts.has(t))
    const rows: Row[] = []
    const failures: CaseOutcome[] = []
    const started = Date.now()
    for (const [i, target] of targets.entries()) {
      // Each target gets an equal share of what is left of the wall time.
      const share = options.seconds === undefined ? Infinity : (started + options.seconds * 1000 - Date.now()) / (targets.length - i)
      const result = await runTarget(target, seedDir, counts.get(target) ?? 0, options, Date.now() + share)
      rows.push(result.row)
      failures.push(...result.failures)
    }
    return { rows, failures, uncovered: [...selected].filter(t => !counts.has(t)) }
  } finally {
    rmSync(seedDir, { recursive: true, force: true })
  }
}
