/// The spam store in the embedded SQLite decision database (better-sqlite3, its own connection to
/// the file the records use; WAL lets both write). The records store applies the migrations.
import Database from 'better-sqlite3'
import { SqliteStore } from '../../records/sqlite-store.js'
import type { CountRow, LearningBatch, MailResultRow, SpamStore, TokenRow } from './store.js'
import { countByRule, countBySender, countOf, hitColumns, hitValues, resultColumns, resultValues, selectChanged, upsertLearned, upsertToken } from './sql.js'

const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ')

export class SqliteSpamStore implements SpamStore {
  readonly name: string
  readonly #db: Database.Database
  readonly #apply: (batch: LearningBatch) => void
  readonly #write: (rows: readonly MailResultRow[]) => void

  constructor (path: string, { readonly = false }: { readonly readonly?: boolean } = {}) {
    // Opening the records store creates the file and applies every migration, ours included.
    if (!readonly) void new SqliteStore(path).close()
    this.name = `sqlite:${path}`
    this.#db = new Database(path, { readonly, fileMustExist: true })
    this.#db.pragma('busy_timeout = 5000')
    const token = readonly ? undefined : this.#db.prepare(upsertToken)
    const learned = readonly ? undefined : this.#db.prepare(upsertLearned)
    this.#apply = this.#db.transaction((batch: LearningBatch) => {
      for (const [t, [s, h]] of batch.deltas) token?.run(t, s, h, batch.at)
      for (const [digest, spam] of batch.learned) learned?.run(digest, spam ? 1 : 0, batch.at)
    })
    const result = readonly ? undefined : this.#db.prepare(`INSERT OR IGNORE INTO mail_results (${resultColumns.join(', ')}) VALUES (${marks(resultColumns.length)})`)
    const hit = readonly ? undefined : this.#db.prepare(`INSERT OR IGNORE INTO mail_rule_hits (${hitColumns.join(', ')}) VALUES (${marks(hitColumns.length)})`)
    this.#write = this.#db.transaction((rows: readonly MailResultRow[]) => {
      for (const r of rows) {
        result?.run(resultValues(r))
        for (const h of hitValues(r)) hit?.run(h)
      }
    })
  }

  async changedTokens (sinceMs: number): Promise<TokenRow[]> {
    return (this.#db.prepare(selectChanged).all(sinceMs) as Array<Record<string, unknown>>)
      .map(r => ({ token: String(r['token']), spam: Number(r['spam']), ham: Number(r['ham']), updated: Number(r['updated_ms']) }))
  }

  async learnedClass (digests: readonly string[]): Promise<Map<string, boolean>> {
    const out = new Map<string, boolean>()
    const one = this.#db.prepare('SELECT spam FROM spam_learned WHERE digest = ?').pluck()
    for (const d of digests) {
      const v = one.get(d)
      if (v !== undefined) out.set(d, Number(v) === 1)
    }
    return out
  }

  async applyLearning (batch: LearningBatch): Promise<void> { this.#apply(batch) }

  async writeResults (rows: readonly MailResultRow[]): Promise<void> { this.#write(rows) }

  async countBy (by: 'rule' | 'sender', sinceMs: number, limit: number): Promise<CountRow[]> {
    return (this.#db.prepare(by === 'rule' ? countByRule : countBySender).all(sinceMs, limit) as Array<Record<string, unknown>>).map(countOf)
  }

  async close (): Promise<void> { this.#db.close() }
}
