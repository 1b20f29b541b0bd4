/// A released false positive teaches the spam model (issue #14: "from released quarantine"): a
/// message the spam filter quarantined (threat Spam, as the milter's spam step keeps it) and
/// learned as spam is released with `scanwall quarantine release` (the CLI binary, one config
/// file) and the shared model in the real SQLite decision database has it as ham; a released virus
/// teaches nothing. The console's release goes through the same function (learnReleased).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { QuarantineStore, type QuarantineOrigin } from '../../src/quarantine/store.js'
import { SqliteSpamStore } from '../../src/spam/store/sqlite.js'
import { Learner } from '../../src/spam/learner.js'
import { learnReleased, spamThreat } from '../../src/spam/release.js'
import { cliMain } from '../helpers/scanwall-node.js'

const newsletter = Buffer.from('From: news@shop.example\r\nSubject: our spring offers\r\nMessage-ID: <n1@shop.example>\r\n\r\nspring sale: save on garden tools this week, free delivery\r\n')
const origin = (threat: string): QuarantineOrigin => ({ threat, reason: threat === spamThreat ? 'spam score 9.5' : 'virus', verdict: 'clean', service: 'milter', method: 'SMTP', url: '', client: '192.0.2.7', user: '', node: 'n1' })

describe('quarantine release trains the spam model as ham', function () {
  this.timeout(60_000)
  const dir = mkdtempSync(join(tmpdir(), 'spam-release-'))
  const key = randomBytes(32)
  const dbPath = join(dir, 'records.sqlite')
  const configFile = join(dir, 'scanwall.json')
  let store: QuarantineStore | undefined

  before(async () => {
    writeFileSync(configFile, JSON.stringify({
      quarantine: { enabled: true, dir: join(dir, 'quarantine'), key: key.toString('hex') },
      stats: { path: dbPath },
      spam: { enabled: true },
    }))
    store = await QuarantineStore.open(join(dir, 'quarantine'), key, { maxBytes: 1 << 24, maxObjectBytes: 1 << 22, retentionHours: 24 })
  })
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  const put = async (threat: string, bytes: Buffer): Promise<string> => {
    const entry = await store?.put({ kind: 'memory', bytes: new Uint8Array(bytes).buffer, size: bytes.length }, origin(threat))
    assert.ok(entry !== undefined)
    return entry.id
  }
  const release = (id: string): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [cliMain, 'quarantine', 'release', id, '--config', configFile], { encoding: 'utf8', timeout: 30_000 })

  it('scanwall quarantine release moves a spam-quarantined message to ham in the SQLite model', async () => {
    const db = new SqliteSpamStore(dbPath)
    try {
      // Learned as spam when it was filtered (a user report, or the operator's corpus).
      assert.deepEqual(await new Learner(db).learn([{ bytes: newsletter, spam: true }]), { learned: 1, relearned: 0, already: 0 })
    } finally {
      await db.close()
    }
    const id = await put(spamThreat, newsletter)
    const run = release(id)
    assert.equal(run.status, 0, String(run.stderr))
    assert.match(String(run.stdout), new RegExp(`${id}: released`))
    assert.match(String(run.stdout), /learned as ham \(moved from spam\)/)
    const check = new SqliteSpamStore(dbPath, { readonly: true })
    try {
      const learner = new Learner(check)
      await learner.refresh()
      assert.equal(learner.model.spamMessages, 0)
      assert.equal(learner.model.hamMessages, 1)
      assert.deepEqual(learner.model.counts('garden'), [0, 1])
      assert.deepEqual(learner.model.counts('from:news'), [0, 1])
    } finally {
      await check.close()
    }
    // Released twice: the model already has it as ham.
    const again = release(id)
    assert.equal(again.status, 0, String(again.stderr))
    assert.match(String(again.stdout), /already ham/)
  })

  it('a released virus (or a content rule) teaches nothing', async () => {
    const virus = Buffer.from('From: x@example.net\r\nSubject: invoice\r\n\r\nsee the attached invoice zebra\r\n')
    const id = await put('Win.Test.EICAR_HDB-1', virus)
    const run = release(id)
    assert.equal(run.status, 0, String(run.stderr))
    assert.doesNotMatch(String(run.stdout), /learned/)
    const check = new SqliteSpamStore(dbPath, { readonly: true })
    try {
      const learner = new Learner(check)
      await learner.refresh()
      assert.equal(learner.model.counts('zebra'), undefined)
      assert.equal(learner.model.hamMessages, 1)
    } finally {
      await check.close()
    }
  })

  it('learnReleased (the console release) learns through the node\'s learner', async () => {
    const bytes = Buffer.from('From: club@sports.example\r\nSubject: fixtures\r\n\r\nthis weekend fixtures and ticket offers quokka\r\n')
    const id = await put(spamThreat, bytes)
    const entry = await store?.release(id)
    assert.ok(entry !== undefined && store !== undefined)
    const db = new SqliteSpamStore(dbPath)
    try {
      const learner = new Learner(db)
      assert.deepEqual(await learnReleased(store, entry, learner), { learned: 1, relearned: 0, already: 0 })
      assert.deepEqual(learner.model.counts('quokka'), [0, 1])
      assert.equal(await learnReleased(store, entry, undefined), undefined)
    } finally {
      await db.close()
    }
  })
})
