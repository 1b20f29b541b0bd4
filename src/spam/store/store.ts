/// What the spam filter keeps in the decision database (migration 2 in src/records/sql.ts): the
/// shared Bayesian token counts, the digests of learned messages, and one row per filtered mail
/// with the rules that hit. One interface, a SQLite and a PostgreSQL implementation, the same
/// database `stats.url`/`stats.path` names, so every node of a cluster learns into one model.

export interface TokenRow { readonly token: string, readonly spam: number, readonly ham: number, readonly updated: number }

/// One learning step: token count changes, and the digests now learned as spam (true) or ham.
export interface LearningBatch {
  readonly deltas: ReadonlyMap<string, readonly [number, number]>
  readonly learned: ReadonlyArray<readonly [string, boolean]>
  readonly at: number
}

/// One filtered mail (a row of mail_results; its rules also go to mail_rule_hits).
export interface MailResultRow {
  readonly node: string
  readonly boot: string
  readonly seq: number
  readonly at: number
  /// 'in' (spam filter) or 'out' (content filter, mail or upload).
  readonly direction: 'in' | 'out'
  readonly client: string
  readonly sender: string
  readonly recipients: string
  readonly subject: string
  readonly score: number
  readonly verdict: string
  readonly action: string
  readonly rules: ReadonlyArray<{ readonly name: string, readonly score: number }>
}

export interface CountRow { readonly key: string, readonly mails: number, readonly flagged: number, readonly blocked: number }

/// The token that holds the learned message totals (no real token contains a control character).
export const totalsToken = '\u0001messages'

export interface SpamStore {
  readonly name: string
  /// Token rows changed at or after `sinceMs` (every row when 0): the model's refresh.
  changedTokens (sinceMs: number): Promise<TokenRow[]>
  /// The class each digest was learned as; digests never learned are absent.
  learnedClass (digests: readonly string[]): Promise<Map<string, boolean>>
  /// One transaction: every delta and every learned digest, or none.
  applyLearning (batch: LearningBatch): Promise<void>
  writeResults (rows: readonly MailResultRow[]): Promise<void>
  /// Mails per rule, or per sender, since `sinceMs`, most first.
  countBy (by: 'rule' | 'sender', sinceMs: number, limit: number): Promise<CountRow[]>
  close (): Promise<void>
}
