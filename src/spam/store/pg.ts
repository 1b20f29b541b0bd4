/// The spam store in the shared PostgreSQL decision database: the nodes of a cluster learn into
/// and read one model. A learning batch travels as arrays (unnest): thousands of tokens in one
/// statement, one round trip. The records store applies the migrations (under its advisory lock).
import pg from 'pg'
import { PgStore, columns } from '../../records/pg-store.js'
import type { CountRow, LearningBatch, MailResultRow, SpamStore, TokenRow } from './store.js'
import { countByRule, countBySender, countOf, hitValues, resultColumns, resultValues, selectChanged } from './sql.js'

const numbered = (sql: string): string => { let n = 0; return sql.replace(/\?/g, () => `$${++n}`) }

const upsertTokens = 'INSERT INTO spam_tokens (token, spam, ham, updated_ms) SELECT t, s, h, $4 FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS u(t, s, h) ' +
  'ON CONFLICT (token) DO UPDATE SET spam = spam_tokens.spam + excluded.spam, ham = spam_tokens.ham + excluded.ham, updated_ms = excluded.updated_ms'
const upsertLearned = 'INSERT INTO spam_learned (digest, spam, at_ms) SELECT d, s, $3 FROM unnest($1::text[], $2::int[]) AS u(d, s) ' +
  'ON CONFLICT (digest) DO UPDATE SET spam = excluded.spam, at_ms = excluded.at_ms'
const resultTypes = ['text', 'text', 'bigint', 'bigint', 'text', 'text', 'text', 'text', 'text', 'float8', 'text', 'text', 'text']
const insertResults = `INSERT INTO mail_results (${resultColumns.join(', ')}) SELECT * FROM unnest(${resultTypes.map((t, i) => `$${i + 1}::${t}[]`).join(', ')}) ON CONFLICT DO NOTHING`
const insertHits = 'INSERT INTO mail_rule_hits (node, boot, seq, rule, at_ms, score, action) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::float8[], $7::text[]) ON CONFLICT DO NOTHING'

export class PgSpamStore implements SpamStore {
  readonly name = 'postgresql'
  readonly #pool: pg.Pool

  private constructor (pool: pg.Pool) { this.#pool = pool }

  static async open (url: string, { readonly = false }: { readonly readonly?: boolean } = {}): Promise<PgSpamStore> {
    if (!readonly) await (await PgStore.open(url)).close()
    const pool = new pg.Pool({ connectionString: url, max: 2 })
    pool.on('error', () => {})
    return new PgSpamStore(pool)
  }

  async changedTokens (sinceMs: number): Promise<TokenRow[]> {
    const { rows } = await this.#pool.query(numbered(selectChanged), [sinceMs])
    return rows.map((r: Record<string, unknown>) => ({ token: String(r['token']), spam: Number(r['spam']), ham: Number(r['ham']), updated: Number(r['updated_ms']) }))
  }

  async learnedClass (digests: readonly string[]): Promise<Map<string, boolean>> {
    const { rows } = await this.#pool.query('SELECT digest, spam FROM spam_learned WHERE digest = ANY($1::text[])', [digests])
    return new Map(rows.map((r: Record<string, unknown>) => [String(r['digest']), Number(r['spam']) === 1]))
  }

  async applyLearning (batch: LearningBatch): Promise<void> {
    // Tokens in one order on every node, so two nodes learning at once cannot deadlock.
    const tokens = [...batch.deltas.keys()].sort()
    await this.#transaction(async c => {
      if (tokens.length > 0) await c.query(upsertTokens, [tokens, tokens.map(t => batch.deltas.get(t)?.[0] ?? 0), tokens.map(t => batch.deltas.get(t)?.[1] ?? 0), batch.at])
      if (batch.learned.length > 0) await c.query(upsertLearned, [batch.learned.map(l => l[0]), batch.learned.map(l => (l[1] ? 1 : 0)), batch.at])
    })
  }

  async writeResults (rows: readonly MailResultRow[]): Promise<void> {
    if (rows.length === 0) return
    await this.#transaction(async c => {
      await c.query(insertResults, columns(rows, resultColumns.length, resultValues))
      const hits = rows.flatMap(hitValues)
      if (hits.length > 0) await c.query(insertHits, columns(hits, 7, h => h))
    })
  }

  async countBy (by: 'rule' | 'sender', sinceMs: number, limit: number): Promise<CountRow[]> {
    return (await this.#pool.query(numbered(by === 'rule' ? countByRule : countBySender), [sinceMs, limit])).rows.map(countOf)
  }

  async #transaction (body: (c: pg.PoolClient) => Promise<void>): Promise<void> {
    const c = await this.#pool.connect()
    try {
      await c.query('BEGIN')
      await body(c)
      await c.query('COMMIT')
      c.release()
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {})
      c.release(err instanceof Error ? err : new Error(String(err)))
      throw err
    }
  }

  async close (): Promise<void> { await this.#pool.end() }
}
