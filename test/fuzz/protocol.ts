/// Messages between the harness and its child process, and where the seeds are written for it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { LayoutName } from './layout.js'
import type { Seed } from './target.js'

export interface InitMessage {
  readonly type: 'init'
  readonly seedDir: string
  readonly target: string
  readonly budgetMs: number
  /// A module exporting `kinds: TargetKind[]` beyond the built-in list (the harness's own self-check).
  readonly extraKinds?: string
}
export interface CaseMessage { readonly type: 'case', readonly seed: number, readonly caseNo: number }
export type ToChild = InitMessage | CaseMessage

export interface CaseReply {
  readonly type: 'result'
  readonly caseNo: number
  readonly variant: string
  readonly how: string
  readonly outcome: 'ok' | 'crash'
  readonly detail: string
  readonly checked: boolean
  readonly kept: boolean
  /// The child's peak resident set so far (process.resourceUsage().maxRSS), in KiB.
  readonly maxRssKb: number
}
export type FromChild = { readonly type: 'ready' } | CaseReply

interface StoredSeed { readonly variant: string, readonly file: string, readonly layout: LayoutName, readonly protect: number, readonly keeps: true | string }

/// Writes a target's seeds as files plus an index, once per run.
export function writeSeeds (dir: string, target: string, seeds: readonly Seed[]): void {
  const into = join(dir, target)
  mkdirSync(into, { recursive: true })
  const index: StoredSeed[] = seeds.map((s, i) => {
    writeFileSync(join(into, `${i}.bin`), s.bytes)
    return { variant: s.variant, file: `${i}.bin`, layout: s.layout, protect: s.protect, keeps: s.keeps }
  })
  writeFileSync(join(into, 'index.json'), JSON.stringify(index))
}

export function readSeeds (dir: string, target: string): Seed[] {
  const into = join(dir, target)
  const index = JSON.parse(readFileSync(join(into, 'index.json'), 'utf8')) as StoredSeed[]
  return index.map(s => ({ target, variant: s.variant, bytes: readFileSync(join(into, s.file)), layout: s.layout, protect: s.protect, keeps: s.keeps }))
}
