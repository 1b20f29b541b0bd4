/// Targets that fail on purpose, one way each, so the harness's self-check can show it notices: a
/// runner that throws, a child that exits, one that loops forever, and one that runs out of heap.
import type { Runner, Seed, TargetKind } from './target.js'

const seed = (target: string): Seed => ({ target, variant: 'self-check', bytes: Buffer.from('0123456789abcdef'), layout: 'none', protect: 0, keeps: 'self-check' })

const failing = (name: string, run: Runner['run']): TargetKind => ({
  names: [name],
  seeds: () => [seed(name)],
  runner: async () => ({ run }),
})

export const kinds: readonly TargetKind[] = [
  failing('self-throw', async () => { throw new Error('thrown on purpose') }),
  failing('self-exit', async () => { process.exit(3) }),
  failing('self-hang', async () => { for (;;);/* a synchronous loop nothing can interrupt */ }),
  failing('self-oom', async () => {
    const hoard: number[][] = []
    for (;;) hoard.push(new Array<number>(1 << 20).fill(hoard.length))
  }),
  failing('self-ok', async mutant => ({ outcome: 'ok', detail: `${mutant.bytes.length} bytes`, checked: false, kept: false })),
]
