/// The Bayesian classifier: per-token spam probabilities with Robinson's correction for rare
/// tokens, combined by Fisher's chi-square method (Robinson 2003; the combining SpamBayes and
/// bogofilter use). Pure: token counts come from a `TokenCounts` (the in-memory model, filled from
/// the decision database), so the maths is tested without a database. Hand-written: the npm Bayes
/// packages (natural, bayes, …) are naive-Bayes text classifiers with a product of likelihoods,
/// which saturates on long mails and has no "unsure" middle.

export interface TokenCounts {
  /// Messages learned as spam / ham.
  readonly spamMessages: number
  readonly hamMessages: number
  /// [spam, ham] messages that held the token; undefined when never seen.
  counts (token: string): readonly [number, number] | undefined
}

export interface BayesSettings {
  /// Robinson's s: how strongly the prior x pulls a rarely seen token (1 is the usual choice).
  readonly strength: number
  /// Robinson's x: the probability assumed for a token never seen.
  readonly prior: number
  /// Tokens whose probability is closer to 0.5 than this are ignored (they only add noise).
  readonly minDeviation: number
  /// At most this many tokens, the most telling ones, go into the combination.
  readonly maxTokens: number
  /// Fewer learned messages than this on either side: the model says 0.5 (not trained).
  readonly minMessages: number
}

export const defaultBayesSettings: BayesSettings = { strength: 0.45, prior: 0.5, minDeviation: 0.1, maxTokens: 150, minMessages: 50 }

export interface BayesResult {
  /// 0 (certainly ham) … 1 (certainly spam); 0.5 when untrained or undecided.
  readonly probability: number
  /// How many tokens were combined.
  readonly tokens: number
  /// The model had too few messages to judge.
  readonly untrained: boolean
}

/// The spam probability of one token (Robinson's f(w)).
export function tokenProbability (spam: number, ham: number, model: TokenCounts, s: BayesSettings): number {
  const spamRatio = spam / Math.max(1, model.spamMessages)
  const hamRatio = ham / Math.max(1, model.hamMessages)
  const p = spamRatio + hamRatio === 0 ? s.prior : spamRatio / (spamRatio + hamRatio)
  const n = spam + ham
  return (s.strength * s.prior + n * p) / (s.strength + n)
}

/// P(chi² ≥ x²) with 2v degrees of freedom: the series form for even degrees (exact, no gamma).
export function chi2Q (x2: number, v: number): number {
  const m = x2 / 2
  let sum = Math.exp(-m)
  let term = sum
  for (let i = 1; i < v; i++) {
    term *= m / i
    sum += term
  }
  return Math.min(sum, 1)
}

/// Fisher-Robinson combination of the telling tokens of one mail.
export function classifyTokens (tokens: Iterable<string>, model: TokenCounts, s: BayesSettings = defaultBayesSettings): BayesResult {
  if (model.spamMessages < s.minMessages || model.hamMessages < s.minMessages) return { probability: 0.5, tokens: 0, untrained: true }
  const telling: number[] = []
  for (const token of tokens) {
    const c = model.counts(token)
    if (c === undefined) continue
    const f = tokenProbability(c[0], c[1], model, s)
    if (Math.abs(f - 0.5) >= s.minDeviation) telling.push(f)
  }
  if (telling.length === 0) return { probability: 0.5, tokens: 0, untrained: false }
  if (telling.length > s.maxTokens) {
    telling.sort((a, b) => Math.abs(b - 0.5) - Math.abs(a - 0.5))
    telling.length = s.maxTokens
  }
  // Sum logs rather than multiply: a product of 150 small numbers underflows.
  let lnSpam = 0
  let lnHam = 0
  for (const f of telling) {
    const clamped = Math.min(0.99, Math.max(0.01, f))
    lnSpam += Math.log(1 - clamped)
    lnHam += Math.log(clamped)
  }
  const n = telling.length
  const hamness = chi2Q(-2 * lnHam, n) // small when the tokens are spammy
  const spamness = chi2Q(-2 * lnSpam, n) // small when the tokens are hammy
  return { probability: (1 + hamness - spamness) / 2, tokens: n, untrained: false }
}

/// An in-memory token table: what `learn` fills and `classify` reads; the database copy is kept
/// in step by the store (src/spam/bayes-store.ts).
export class BayesModel implements TokenCounts {
  spamMessages = 0
  hamMessages = 0
  readonly #counts = new Map<string, [number, number]>()

  counts (token: string): readonly [number, number] | undefined { return this.#counts.get(token) }

  get size (): number { return this.#counts.size }

  /// Adds (delta 1) or removes (delta -1) one message's tokens; counts never go below zero.
  learn (tokens: Iterable<string>, spam: boolean, delta: 1 | -1 = 1): void {
    if (spam) this.spamMessages = Math.max(0, this.spamMessages + delta)
    else this.hamMessages = Math.max(0, this.hamMessages + delta)
    const side = spam ? 0 : 1
    for (const token of tokens) {
      let c = this.#counts.get(token)
      if (c === undefined) {
        if (delta < 0) continue
        c = [0, 0]
        this.#counts.set(token, c)
      }
      c[side] = Math.max(0, c[side] + delta)
      if (c[0] === 0 && c[1] === 0) this.#counts.delete(token)
    }
  }

  /// Sets a token's counts as read from the database.
  set (token: string, spam: number, ham: number): void {
    if (spam === 0 && ham === 0) this.#counts.delete(token)
    else this.#counts.set(token, [spam, ham])
  }

  entries (): IterableIterator<[string, [number, number]]> { return this.#counts.entries() }
}
