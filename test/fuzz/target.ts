/// What a fuzz target is: seeds built once per run in the harness process, and a runner that executes
/// one mutated case inside the child process. The target list (targets.ts) is the one place a new
/// parser (ICAP, clamd, milter) is added.
import type { LayoutName } from './layout.js'
import type { Mutant } from './mutators.js'
import type { Rng } from './prng.js'

export interface Seed {
  /// The table row it belongs to: a file type for the engine, a protocol name for parsers.
  readonly target: string
  readonly variant: string
  readonly bytes: Buffer
  readonly layout: LayoutName
  /// Prefix-keeping mutations leave bytes [0, protect) alone.
  readonly protect: number
  /// true: EICAR (inside [0, protect)) must be found after prefix-keeping damage; else why not.
  readonly keeps: true | string
}

export interface RunLimits {
  /// The scan budget given to the engine (its MaxScanTime); a case past budget + grace is a hang.
  readonly budgetMs: number
}

export interface CaseResult {
  /// 'crash': the code under test threw, rejected or broke its contract (detail says how).
  readonly outcome: 'ok' | 'crash'
  readonly detail: string
  /// Whether the EICAR check applied to this case, and whether EICAR was found.
  readonly checked: boolean
  readonly kept: boolean
}

export interface Runner {
  run (mutant: Mutant, seed: Seed, rng: Rng, limits: RunLimits): Promise<CaseResult>
}

export interface TargetKind {
  /// The rows this kind contributes (formats, or its protocol name).
  readonly names: readonly string[]
  /// Seeds of the selected rows (built in the harness process).
  seeds (names: ReadonlySet<string>): Seed[]
  /// The case runner, created once per child process.
  runner (): Promise<Runner>
}
