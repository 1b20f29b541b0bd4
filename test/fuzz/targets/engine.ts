/// The engine target: a mutated container goes through Engine.scan, the scan path a pool worker takes
/// (workers/scan.ts), with the run's time budget as MaxScanTime and an AbortSignal as a backstop. The
/// engine knows EICAR's MD5, so a finding proves a handler extracted it byte for byte, and body
/// signatures of targets 0, 3 and 7 (none of which the seeds hold) so that HTML layers go through the
/// normalised-HTML pass and its JavaScript normaliser, and text layers through the normalised text.
import { defaultLimits } from '../../../src/engine/budget.js'
import { handledTypes } from '../../../src/engine/formats/registry.js'
import { MemorySource } from '../../../src/engine/source.js'
import { detectType } from '../../../src/engine/filetype.js'
import { eicar } from '../../helpers/eicar.js'
import { engineWith } from '../../helpers/engine.js'
import { buildSeeds } from '../seeds.js'
import type { Runner, TargetKind } from '../target.js'

export const eicarName = 'Fuzz.EICAR.HDB'

const hex = (s: string): string => Buffer.from(s, 'latin1').toString('hex')
/// Body signatures that reach every normalised form (nocomment and notags: target 3; the javascript
/// form: targets 3 and 7; raw: 0); the seeds match none of them.
export const fuzzBodySignatures: Record<string, string> = {
  'fuzz.ndb': [`Fuzz.Raw:0:*:${hex('fuzz-never-raw-0')}`, `Fuzz.Html:3:*:${hex('<fuzz-never-html>')}`,
    `Fuzz.Js:7:*:${hex('n000="fuzz-never-js"')}`].join('\n') + '\n',
  'fuzz.ldb': `Fuzz.Ldb;Engine:51-255,Target:3;0&1;${hex('<script>')};${hex('fuzz-never-ldb')}\n`
}

async function runner (): Promise<Runner> {
  const engine = await engineWith(eicar, eicarName, fuzzBodySignatures)
  return {
    async run (mutant, seed, _rng, limits) {
      // The backstop aborts well after the budget, so the budget's own MaxScanTime is what stops a scan.
      const signal = AbortSignal.timeout(limits.budgetMs * 2)
      let verdict
      try {
        verdict = await engine.scan(new MemorySource(mutant.bytes), 'object', { ...defaultLimits, maxScanMs: limits.budgetMs }, signal)
      } catch (err) {
        return { outcome: 'crash', detail: `scan rejected: ${err instanceof Error ? err.stack ?? err.message : String(err)}`, checked: false, kept: false }
      }
      // Found inside a child: the top object itself is never an exact EICAR.
      const kept = verdict.findings.some(f => f.name === eicarName && f.path.length >= 2)
      // Checked when the damage lies after EICAR and left the file what it was: binary junk in a text
      // container (uuencode, HTML, mail) makes it binary data, which has no handler, here as in ClamAV.
      const checked = seed.keeps === true && mutant.keepsPrefix && await detectType(new MemorySource(mutant.bytes)) === seed.target
      const findings = verdict.findings.map(f => `${f.name}@${f.path.join('/')}`).join(', ')
      return { outcome: 'ok', detail: `${verdict.status}${findings === '' ? '' : ` [${findings}]`}`, checked, kept }
    },
  }
}

export const engineTarget: TargetKind = {
  names: handledTypes,
  seeds: names => buildSeeds(names).map(s => ({ ...s, target: s.format })),
  runner,
}
