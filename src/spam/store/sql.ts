/// The spam store's statements, one text for SQLite and PostgreSQL (`?` placeholders; the
/// PostgreSQL store numbers them). Counts are added, never overwritten, so two nodes learning at
/// once both count.
import type { CountRow, MailResultRow } from './store.js'

export const upsertToken = 'INSERT INTO spam_tokens (token, spam, ham, updated_ms) VALUES (?, ?, ?, ?) ON CONFLICT (token) DO UPDATE SET ' +
  'spam = spam_tokens.spam + excluded.spam, ham = spam_tokens.ham + excluded.ham, updated_ms = excluded.updated_ms'
export const upsertLearned = 'INSERT INTO spam_learned (digest, spam, at_ms) VALUES (?, ?, ?) ON CONFLICT (digest) DO UPDATE SET spam = excluded.spam, at_ms = excluded.at_ms'
export const selectChanged = 'SELECT token, spam, ham, updated_ms FROM spam_tokens WHERE updated_ms >= ?'
export const resultColumns = ['node', 'boot', 'seq', 'at_ms', 'direction', 'client', 'sender', 'recipients', 'subject', 'score', 'verdict', 'action', 'rules'] as const
export const hitColumns = ['node', 'boot', 'seq', 'rule', 'at_ms', 'score', 'action'] as const

export function resultValues (r: MailResultRow): Array<string | number> {
  return [r.node, r.boot, r.seq, r.at, r.direction, r.client, r.sender, r.recipients, r.subject.slice(0, 300), r.score, r.verdict, r.action, r.rules.map(h => h.name).join(',')]
}

export function hitValues (r: MailResultRow): Array<Array<string | number>> {
  return r.rules.map(h => [r.node, r.boot, r.seq, h.name, r.at, h.score, r.action])
}

/// "Blocked": any action but delivering or tagging.
const blockedCase = "SUM(CASE WHEN action IN ('deliver', 'tag', 'log', 'archive') THEN 0 ELSE 1 END)"
export const countByRule = `SELECT rule AS key, COUNT(*) AS mails, SUM(CASE WHEN score > 0 THEN 1 ELSE 0 END) AS flagged, ${blockedCase} AS blocked ` +
  'FROM mail_rule_hits WHERE at_ms >= ? GROUP BY rule ORDER BY COUNT(*) DESC, rule LIMIT ?'
export const countBySender = `SELECT sender AS key, COUNT(*) AS mails, SUM(CASE WHEN verdict IN ('spam', 'suspect', 'hit') THEN 1 ELSE 0 END) AS flagged, ${blockedCase} AS blocked ` +
  'FROM mail_results WHERE at_ms >= ? GROUP BY sender ORDER BY COUNT(*) DESC, sender LIMIT ?'

export function countOf (row: Record<string, unknown>): CountRow {
  return { key: String(row['key']), mails: Number(row['mails']), flagged: Number(row['flagged']), blocked: Number(row['blocked']) }
}
