/// A case id (target, seed, case number) turned back into its bytes: the seed file is picked by case
/// number, the mutation by a PRNG seeded with the id. The child runs it; a reproducer writes it out.
import type { Layout } from './layout.js'
import { mutate, type Mutant } from './mutators.js'
import { caseId, Rng } from './prng.js'
import type { Seed } from './target.js'

export function caseInput (target: string, seeds: readonly Seed[], layouts: readonly Layout[], seed: number, caseNo: number): { seed: Seed, rng: Rng, mutant: Mutant } {
  const chosen = seeds[caseNo % seeds.length]
  const layout = layouts[caseNo % seeds.length]
  if (chosen === undefined || layout === undefined) throw new Error(`no seeds for ${target}`)
  const rng = new Rng(caseId(target, seed, caseNo))
  return { seed: chosen, rng, mutant: mutate({ seed: chosen.bytes, layout, protect: chosen.protect }, rng) }
}
