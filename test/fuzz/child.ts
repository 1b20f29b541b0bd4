/// The fuzz child process: runs one target's cases as the harness sends them, so a case that crashes
/// the process, exhausts its heap or never returns costs only this process (the harness notices,
/// records the case id, and starts another). Each case is rebuilt here from (target, seed, case
/// number): the seed file is picked by case number, the mutation by a PRNG seeded with the case id.
import { layoutOf, type Layout } from './layout.js'
import { caseInput } from './cases.js'
import { readSeeds, type CaseReply, type ToChild } from './protocol.js'
import { kindOf } from './targets.js'
import type { Runner, Seed, TargetKind } from './target.js'

interface State { readonly target: string, readonly seeds: readonly Seed[], readonly layouts: readonly Layout[], readonly runner: Runner, readonly budgetMs: number }

function send (message: object): void { process.send?.(message) }

/// One child serves one target: init builds its runner, then each case message is answered in turn.
function serve (): void {
  let state: State | undefined
  const handle = async (message: ToChild): Promise<void> => {
    if (message.type === 'init') {
      const extra = message.extraKinds === undefined ? [] : ((await import(message.extraKinds)) as { kinds: readonly TargetKind[] }).kinds
      const kind = kindOf(message.target) ?? extra.find(k => k.names.includes(message.target))
      if (kind === undefined) throw new Error(`unknown target ${message.target}`)
      const seeds = readSeeds(message.seedDir, message.target)
      state = { target: message.target, seeds, layouts: seeds.map(s => layoutOf(s.layout, s.bytes)), runner: await kind.runner(), budgetMs: message.budgetMs }
      send({ type: 'ready' })
      return
    }
    if (state === undefined) throw new Error('case before init')
    const { seed, rng, mutant } = caseInput(state.target, state.seeds, state.layouts, message.seed, message.caseNo)
    let result
    try {
      result = await state.runner.run(mutant, seed, rng, { budgetMs: state.budgetMs })
    } catch (err) {
      result = { outcome: 'crash' as const, detail: `runner threw: ${err instanceof Error ? err.stack ?? err.message : String(err)}`, checked: false, kept: false }
    }
    const reply: CaseReply = { type: 'result', caseNo: message.caseNo, variant: seed.variant, how: mutant.how, ...result, maxRssKb: process.resourceUsage().maxRSS }
    send(reply)
  }
  process.on('message', (message: ToChild) => {
    handle(message).catch((err: unknown) => {
      // A harness error (not the code under test): say so and leave; the harness reports it.
      process.stderr.write(`fuzz child: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
      process.exit(70)
    })
  })
}

if (process.send !== undefined) serve()
