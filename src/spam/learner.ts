/// Learning: the shared Bayesian model in memory, kept in step with the decision database. A
/// message is known by its SHA-256: learning it again as the same class changes nothing, and
/// learning it as the other class (a released false positive, a reported spam that was let through)
/// moves its tokens from one side to the other. `refresh` reads the rows other nodes changed.
import { createHash } from 'node:crypto'
import { BayesModel } from './bayes.js'
import { readMail } from './message.js'
import { tokensOf } from './tokens.js'
import { totalsToken, type SpamStore } from './store/store.js'

export interface LearnCounts { learned: number, relearned: number, already: number }

/// How far back a refresh reads past the last one: another node's clock may lag ours.
const refreshOverlapMs = 60_000

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

  /// Learns messages (each as spam or ham) in one database transaction.
  async learn (messages: ReadonlyArray<{ readonly bytes: Uint8Array, readonly spam: boolean }>): Promise<LearnCounts> {
    const counts: LearnCounts = { learned: 0, relearned: 0, already: 0 }
    const digests = messages.map(m => createHash('sha256').update(m.bytes).digest('hex'))
    const before = await this.#store.learnedClass([...new Set(digests)])
    const deltas = new Map<string, [number, number]>()
    const learned = new Map<string, boolean>()
    const add = (token: string, spam: boolean, delta: number): void => {
      let d = deltas.get(token)
      if (d === undefined) { d = [0, 0]; deltas.set(token, d) }
      d[spam ? 0 : 1] += delta
    }
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
