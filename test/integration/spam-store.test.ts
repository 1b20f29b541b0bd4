import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteSpamStore } from '../../src/spam/store/sqlite.js'
import { PgSpamStore } from '../../src/spam/store/pg.js'
import type { SpamStore } from '../../src/spam/store/store.js'
import { Learner } from '../../src/spam/learner.js'
import { MailResults } from '../../src/spam/results.js'
import { startPostgres, type TestPostgres } from '../helpers/postgres.js'
import { cliMain } from '../helpers/scanwall-node.js'
import { createLogger } from '../../src/log.js'

const spamMail = (i: number): Buffer => Buffer.from(`From: deals${i}@cheap.example\r\nSubject: cheap pills offer ${i}\r\n\r\nbuy cheap pills now, limited offer ${i}\r\n`)
const hamMail = (i: number): Buffer => Buffer.from(`From: ann@example.org\r\nSubject: build report ${i}\r\n\r\nthe compiler build passed, patch ${i} merged\r\n`)

/// Two learners on one database: what one learns, the other reads on refresh; a message learned
/// again as the other class moves over; results are counted per rule and sender.
async function sharedModel (open: () => Promise<SpamStore>): Promise<void> {
  const a = await open()
  const b = await open()
  try {
    const one = new Learner(a)
    const two = new Learner(b)
    const first = await one.learn([...Array.from({ length: 5 }, (_, i) => ({ bytes: spamMail(i), spam: true })), ...Array.from({ length: 5 }, (_, i) => ({ bytes: hamMail(i), spam: false }))])
    assert.deepEqual(first, { learned: 10, relearned: 0, already: 0 })
    assert.deepEqual(await one.learn([{ bytes: spamMail(0), spam: true }]), { learned: 0, relearned: 0, already: 1 })
    await two.refresh()
    assert.equal(two.model.spamMessages, 5)
    assert.equal(two.model.hamMessages, 5)
    assert.deepEqual(two.model.counts('pills'), [5, 0])
    // A false positive released: learned as ham, it moves from the spam side.
    assert.deepEqual(await two.learn([{ bytes: spamMail(4), spam: false }]), { learned: 0, relearned: 1, already: 0 })
    await one.refresh()
    assert.deepEqual(one.model.counts('pills'), [4, 1])
    assert.equal(one.model.spamMessages, 4)
    assert.equal(one.model.hamMessages, 6)
    const results = new MailResults(a, 'node-a', createLogger('silent', 'test'))
    results.record({ direction: 'in', client: '192.0.2.1', sender: 'deals@cheap.example', recipients: 'bob@example.net', subject: 'x', score: 12, verdict: 'spam', action: 'reject', rules: [{ name: 'BODY_PHARMA', score: 1.5 }, { name: 'BAYES_99', score: 9 }] })
    results.record({ direction: 'in', client: '192.0.2.1', sender: 'deals@cheap.example', recipients: 'bob@example.net', subject: 'y', score: 6, verdict: 'suspect', action: 'tag', rules: [{ name: 'BAYES_95', score: 7 }, { name: 'BODY_PHARMA', score: 1.5 }] })
    await results.close()
    const byRule = await b.countBy('rule', 0, 10)
    assert.deepEqual(byRule.find(r => r.key === 'BODY_PHARMA'), { key: 'BODY_PHARMA', mails: 2, flagged: 2, blocked: 1 })
    assert.deepEqual(await b.countBy('sender', 0, 10), [{ key: 'deals@cheap.example', mails: 2, flagged: 2, blocked: 1 }])
  } finally {
    await a.close()
    await b.close()
  }
}

/// Train-on-error on the database: once the model can judge, a message it already gets right is
/// not learned (and not recorded as learned), one it gets wrong is; a correction always moves.
async function trainOnError (open: () => Promise<SpamStore>): Promise<void> {
  const store = await open()
  try {
    const learner = new Learner(store)
    const spam = Array.from({ length: 60 }, (_, i) => spamMail(100 + i))
    const ham = Array.from({ length: 60 }, (_, i) => hamMail(100 + i))
    const first = await learner.learnOnErrors(spam, ham)
    assert.equal(first.learned + first.confident, 120)
    assert.ok(first.learned >= 100, `the first 50 of each class are learned while the model cannot judge: ${JSON.stringify(first)}`)
    assert.ok(first.confident > 0, `messages the model then judges right are skipped: ${JSON.stringify(first)}`)
    const easy = await learner.learnOnErrors([spamMail(500)], [])
    assert.deepEqual(easy, { learned: 0, relearned: 0, already: 0, confident: 1 })
    // Ham that reads like the spam: misjudged, so learned.
    const hard = Buffer.from('From: deals@cheap.example\r\nSubject: cheap pills offer 7\r\n\r\nour pharmacy newsletter: cheap pills offer, limited\r\n')
    assert.deepEqual(await learner.learnOnErrors([], [hard]), { learned: 1, relearned: 0, already: 0, confident: 0 })
    // A spam learned before as ham is moved whatever the model says.
    assert.deepEqual(await learner.learnOnErrors([hard], []), { learned: 0, relearned: 1, already: 0, confident: 0 })
    const other = new Learner(store)
    await other.refresh()
    assert.equal(other.model.spamMessages, learner.model.spamMessages)
    assert.equal(other.model.hamMessages, learner.model.hamMessages)
    assert.deepEqual(other.model.counts('pharmacy'), learner.model.counts('pharmacy'))
    assert.equal((await store.learnedClass([createHash('sha256').update(spamMail(500)).digest('hex')])).size, 0, 'a message not learned is not recorded')
  } finally {
    await store.close()
  }
}

describe('spam model in the decision database', () => {
  let dir = ''
  before(() => { dir = mkdtempSync(join(tmpdir(), 'spam-store-')) })
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  it('SQLite: nodes share one model; relearning moves a message', async () => {
    const path = join(dir, 'records.sqlite')
    await sharedModel(async () => new SqliteSpamStore(path))
  })

  it('SQLite: train-on-error learns what the model misjudges, and only that', async () => {
    await trainOnError(async () => new SqliteSpamStore(join(dir, 'toe.sqlite')))
  })

  describe('PostgreSQL', function () {
    this.timeout(180_000)
    let pg: TestPostgres | undefined
    before(async () => { pg = await startPostgres() })
    after(async () => { await pg?.stop() })
    it('nodes share one model; relearning moves a message', async () => {
      await sharedModel(async () => await PgSpamStore.open(pg?.url ?? ''))
    })
  })

  it('scanwall spam learn reads mbox files and message directories; stats --by rule answers', () => {
    const spamDir = join(dir, 'spam')
    mkdirSync(spamDir)
    for (let i = 0; i < 3; i++) writeFileSync(join(spamDir, `${i}.eml`), spamMail(i))
    const mbox = join(dir, 'ham.mbox')
    writeFileSync(mbox, Array.from({ length: 4 }, (_, i) => `From ann@example.org Mon Jan  1 00:00:00 2026\n${hamMail(i).toString()}`).join('\n'))
    const config = join(dir, 'scanwall.json')
    writeFileSync(config, JSON.stringify({ stats: { path: join(dir, 'cli.sqlite') } }))
    const learn = spawnSync(process.execPath, [cliMain, 'spam', 'learn', '--spam', spamDir, '--ham', mbox, '--config', config], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(learn.status, 0, learn.stderr)
    // Train-on-error by default: a model that cannot judge yet (fewer than 50 of a class) learns all.
    assert.match(learn.stdout, /^7 learned \(misjudged or unsure\), 0 already judged right, 0 moved to the other class, 0 already known$/m)
    assert.match(learn.stdout, /model: 3 spam, 4 ham/)
    const all = spawnSync(process.execPath, [cliMain, 'spam', 'learn', '--all', '--spam', mbox, '--config', config], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(all.status, 0, all.stderr)
    assert.match(all.stdout, /0 learned as spam, 4 moved from ham, 0 already known/)
    assert.match(all.stdout, /model: 7 spam, 0 ham/)
    const stats = spawnSync(process.execPath, [cliMain, 'stats', '--by', 'rule', '--config', config], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(stats.status, 0, stats.stderr)
    assert.match(stats.stdout, /^rule\tmails\tflagged\tblocked\n$/)
    const bad = spawnSync(process.execPath, [cliMain, 'spam', 'learn', '--config', config], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(bad.status, 2)
  })
})
