/// Learning: the shared Bayesian model in memory, kept in step with the decision database. A
/// message is known by its SHA-256: learning it again as the same class changes nothing, and
/// learning it as the other class (a released false positive, a reported spam that was let through)
/// moves its tokens from one side to the other. `refresh` reads the rows other nodes changed.
/// `learnOnErrors` learns only what the model misjudges (train.ts): the way a corpus is taught.
import { createHash } from 'node:crypto'
import { BayesModel } from './bayes.js'
import { readMail } from './message.js'
import { tokensOf } from './tokens.js'
import { defaultTrainSettings, interleave, trainOnErrors, type TrainSettings } from './train.js'
import { totalsToken, type SpamStore } from './store/store.js'

export interface LearnCounts { learned: number, relearned: number, already: number }
/// learnOnErrors: `confident` messages the model already judged right were not learned.
export interface TrainCounts extends LearnCounts { confident: number }

interface Prepared { readonly digest: string, readonly tokens: Set<string>, readonly spam: boolean }

/// How far back a refresh reads past the last one: another node's clock may lag ours.
const refreshOverlapMs = 60_000

function addDelta (deltas: Map<string, [number, number]>, token: string, spam: boolean, delta: number): void {
  let d = deltas.get(token)
  if (d === undefined) { d = [0, 0]; deltas.set(token, d) }
  d[spam ? 0 : 1] += delta
}

export class Learner {
  readonly model = new BayesModel()
  readonly #store: SpamStore
  #refreshedAt = 0

  constructor (store: SpamStore) { this.#store = store }

  /// Reads every token row changed since the last refresh (all of them the first time).
  async refresh (): Promise<number> {
    const started = Date.now()
    const rows = await this.#store.changedTokens(this.#refreshedAt === 0 ? 0 : this.#refreshedAt - refreshOverlapMs)
    for (const r of rows) {
      if (r.token === totalsToken) { this.model.spamMessages = r.spam; this.model.hamMessages = r.ham } else this.model.set(r.token, r.spam, r.ham)
    }
    this.#refreshedAt = started
    return rows.length
  }

  /// Teaches a corpus train-on-error (train.ts): spam and ham interleaved, each message the model
  /// misjudges learned once, in passes; a message learned before as the other class is moved (a
  /// correction is always learned), one learned as the same class is left. One transaction.
  /// The messages are read one by one (an iterable: a mailbox reader) and kept as their tokens only.
  async learnOnErrors (spam: Iterable<Uint8Array>, ham: Iterable<Uint8Array>, settings: TrainSettings = defaultTrainSettings): Promise<TrainCounts> {
    const prepare = (bytes: Uint8Array, isSpam: boolean): Prepared => ({ digest: createHash('sha256').update(bytes).digest('hex'), tokens: tokensOf(readMail(bytes)), spam: isSpam })
    const all = interleave(Array.from(spam, b => prepare(b, true)), Array.from(ham, b => prepare(b, false)))
    const before = await this.#store.learnedClass([...new Set(all.map(m => m.digest))])
    const counts: TrainCounts = { learned: 0, relearned: 0, already: 0, confident: 0 }
    const deltas = new Map<string, [number, number]>()
    const learned = new Map<string, boolean>()
    const fresh: Prepared[] = []
    const seen = new Set<string>()
    for (const m of all) {
      const was = before.get(m.digest)
      if (seen.has(m.digest) || was === m.spam) { counts.already++; continue }
      seen.add(m.digest)
      if (was === undefined) { fresh.push(m); continue }
      // A correction: the model had it as the other class.
      this.#move(m.tokens, was, m.spam, deltas)
      learned.set(m.digest, m.spam)
      counts.relearned++
    }
    const taught = trainOnErrors(this.model, fresh, settings)
    fresh.forEach((m, i) => {
      if (!taught.has(i)) { counts.confident++; return }
      // trainOnErrors has changed the model already; the database gets the same counts.
      for (const t of m.tokens) addDelta(deltas, t, m.spam, 1)
      addDelta(deltas, totalsToken, m.spam, 1)
      learned.set(m.digest, m.spam)
      counts.learned++
    })
    if (learned.size > 0) await this.#store.applyLearning({ deltas, learned: [...learned], at: Date.now() })
    return counts
  }

  /// One message's tokens moved from class `was` to `now`, in the model and in `deltas`.
  #move (tokens: ReadonlySet<string>, was: boolean, now: boolean, deltas: Map<string, [number, number]>): void {
    for (const t of tokens) { addDelta(deltas, t, was, -1); addDelta(deltas, t, now, 1) }
    addDelta(deltas, totalsToken, was, -1)
    addDelta(deltas, totalsToken, now, 1)
    this.model.learn(tokens, was, -1)
    this.model.learn(tokens, now, 1)
  }

  /// Learns messages (each as spam or ham) in one database transaction.
  async learn (messages: ReadonlyArray<{ readonly bytes: Uint8Array, readonly spam: boolean }>): Promise<LearnCounts> {
    const counts: LearnCounts = { learned: 0, relearned: 0, already: 0 }
    const digests = messages.map(m => createHash('sha256').update(m.bytes).digest('hex'))
    const before = await this.#store.learnedClass([...new Set(digests)])
    const deltas = new Map<string, [number, number]>()
    const learned = new Map<string, boolean>()
    const add = (token: string, spam: boolean, delta: number): void => { addDelta(deltas, token, spam, delta) }
    messages.forEach((m, i) => {
      const digest = digests[i] as string
      const was = learned.get(digest) ?? before.get(digest)
      if (was === m.spam) { counts.already++; return }
      const tokens = tokensOf(readMail(m.bytes))
      if (was !== undefined) {
        for (const t of tokens) add(t, was, -1)
        add(totalsToken, was, -1)
        this.model.learn(tokens, was, -1)
        counts.relearned++
      } else counts.learned++
      for (const t of tokens) add(t, m.spam, 1)
      add(totalsToken, m.spam, 1)
      this.model.learn(tokens, m.spam, 1)
      learned.set(digest, m.spam)
    })
    if (learned.size > 0) await this.#store.applyLearning({ deltas, learned: [...learned], at: Date.now() })
    return counts
  }
}
