/// `npm run fuzz`: the fuzzing harness from the command line.
///   npm run fuzz -- [--seconds N] [--cases N] [--seed N] [--format zip,tar,icap ...]
///                   [--case N --write FILE]  (rebuild one reported case; FILE gets its bytes)
///                   [--from N]  (start at case N: for a failure that needs the cases before it)
///                   [--budget-ms N] [--grace-ms N] [--heap-mb N] [--max-rss-mb N] [--verbose]
/// Prints one row per target (cases, crashes, hangs, EICAR kept where the damage lay after it, peak
/// RSS of the child) and every failure with its case id; exits 1 when anything failed.
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { caseInput } from './cases.js'
import { runFuzz } from './harness.js'
import { table } from './table.js'
import { layoutOf } from './layout.js'
import { kindOf } from './targets.js'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    cases: { type: 'string' },
    seed: { type: 'string', default: '1' },
    format: { type: 'string', multiple: true, default: [] },
    case: { type: 'string' },
    from: { type: 'string' },
    write: { type: 'string' },
    'budget-ms': { type: 'string', default: '5000' },
    'grace-ms': { type: 'string', default: '10000' },
    'heap-mb': { type: 'string', default: '512' },
    'max-rss-mb': { type: 'string', default: '1024' },
    verbose: { type: 'boolean', default: false },
  },
})

function int (name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got '${text}'`)
  return n
}

async function main (): Promise<number> {
  const targets = values.format.flatMap(f => f.split(',')).filter(f => f !== '')
  const seed = int('seed', values.seed) ?? 1
  const caseNo = int('case', values.case)
  if (values.write !== undefined) {
    const [target] = targets
    const kind = target === undefined ? undefined : kindOf(target)
    if (target === undefined || kind === undefined || caseNo === undefined || targets.length !== 1) throw new Error('--write needs one --format and --case')
    const seeds = kind.seeds(new Set([target])).filter(s => s.target === target)
    const { seed: from, mutant } = caseInput(target, seeds, seeds.map(s => layoutOf(s.layout, s.bytes)), seed, caseNo)
    writeFileSync(values.write, mutant.bytes)
    process.stdout.write(`${values.write}: ${mutant.bytes.length} bytes, seed '${from.variant}', ${mutant.how}\n`)
  }
  const cases = int('cases', values.cases)
  const seconds = int('seconds', values.seconds)
  const report = await runFuzz({
    targets,
    seed,
    ...(caseNo !== undefined ? { caseNo } : {}),
    ...(values.from !== undefined ? { firstCase: int('from', values.from) ?? 0 } : {}),
    ...(cases !== undefined ? { cases } : seconds === undefined ? { cases: 200 } : {}),
    ...(seconds !== undefined ? { seconds } : {}),
    budgetMs: int('budget-ms', values['budget-ms']) ?? 5000,
    graceMs: int('grace-ms', values['grace-ms']) ?? 10000,
    heapMb: int('heap-mb', values['heap-mb']) ?? 512,
    maxRssMb: int('max-rss-mb', values['max-rss-mb']) ?? 1024,
    onCase: (_target, end) => {
      if (values.verbose || caseNo !== undefined) process.stdout.write(`${end.id} ${end.kind} [${end.variant}] ${end.how}: ${end.detail}\n`)
    },
  })
  process.stdout.write(`${table(report)}\n`)
  if (report.uncovered.length > 0) process.stdout.write(`not covered (no seed): ${report.uncovered.join(', ')}\n`)
  for (const f of report.failures) process.stdout.write(`${f.kind.toUpperCase()} ${f.id} [${f.variant}] ${f.how}: ${f.detail}\n`)
  if (report.failures.length > 0) process.stdout.write('reproduce: npm run fuzz -- --format <target> --seed <seed> --case <n> --write case.bin\n')
  return report.failures.length > 0 ? 1 : 0
}

main().then(code => { process.exitCode = code }, (err: unknown) => {
  process.stderr.write(`fuzz: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 2
})
