import assert from 'node:assert/strict'
import { readMail, htmlToText, decodeHeader, addressOf } from '../../../src/spam/message.js'
import { tokensOf } from '../../../src/spam/tokens.js'
import { BayesModel, chi2Q, classifyTokens, tokenProbability, defaultBayesSettings } from '../../../src/spam/bayes.js'
import { RuleSet } from '../../../src/spam/rules.js'
import { defaultRules } from '../../../src/spam/rules/default.js'
import { SpamFilter, defaultSpamProfile, type SpamProfile } from '../../../src/spam/filter.js'
import { SenderListSet, parseList, listed } from '../../../src/spam/lists.js'
import { splitMbox } from '../../../src/spam/mailbox.js'

const mail = (headers: string, body: string): Buffer => Buffer.from(`${headers.trim().replace(/\n/g, '\r\n')}\r\n\r\n${body.replace(/\n/g, '\r\n')}`, 'utf8')

const hamText = mail('From: Ann <ann@example.org>\nTo: bob@example.net\nSubject: minutes of the build meeting\nDate: Mon, 1 Dec 2025 10:00:00 +0000\nMessage-ID: <1@example.org>',
  'Hi Bob,\nthe compiler upgrade is scheduled for Thursday; please review the patch queue.\nAnn\n')
const spamHtml = mail('From: "Deals" <deals4u123@cheap.example>\nTo: undisclosed-recipients:;\nSubject: FREE CASH NOW!!!\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64',
  Buffer.from('<html><body><p>Dear friend, you have won! <b>Click here</b> to claim your prize: <a href="http://192.0.2.7/win">$1,000,000 USD</a></p><div style="display:none">ham words</div></body></html>').toString('base64'))

describe('spam: reading mail', () => {
  it('decodes base64 HTML parts to text and collects links and tags', () => {
    const view = readMail(spamHtml)
    assert.match(view.texts.join(' '), /Dear friend, you have won!\s+Click here/)
    assert.deepEqual(view.urls, ['http://192.0.2.7/win'])
    assert.ok(view.htmlTags.includes('hidden'))
    assert.equal(view.subject, 'FREE CASH NOW!!!')
  })
  it('decodes quoted-printable, RFC 2047 subjects and multipart alternatives', () => {
    const m = mail('From: a@b.example\nSubject: =?utf-8?B?R3LDvMOfZQ==?=\nContent-Type: multipart/alternative; boundary="xx"',
      '--xx\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nS=FC=DF und soft=\nbreak\n--xx\nContent-Type: text/html\n\n<p>caf&eacute; &amp; more</p>\n--xx--\n')
    const view = readMail(m)
    assert.equal(view.subject, 'Grüße')
    assert.match(view.texts[0] ?? '', /Süß und softbreak/)
    assert.match(view.texts[1] ?? '', /& more/)
  })
  it('strips scripts, styles and comments from HTML', () => {
    const tags: string[] = []
    const urls: string[] = []
    assert.equal(htmlToText('<style>x{}</style><script>evil()</script><!-- c -->a<br>b', tags, urls).replace(/\s+/g, ' ').trim(), 'a b')
  })
  it('reads addresses from header values', () => {
    assert.equal(addressOf('"Ann" <Ann@Example.org>'), 'ann@example.org')
    assert.equal(addressOf('bob@example.net (Bob)'), 'bob@example.net')
    assert.equal(decodeHeader('plain'), 'plain')
  })
  it('never throws on garbage', () => {
    const view = readMail(Buffer.from([0xff, 0, 1, 2, 0x0a, 0x0a, 0xfe]))
    assert.equal(view.headers.length, 0)
  })
  it('splits an mbox and undoes >From quoting', () => {
    const box = Buffer.from('From a@b Mon Jan 1 00:00:00 2001\nSubject: one\n\n>From here\nFrom b@c Mon Jan 1 00:00:00 2001\nSubject: two\n\nbody\n')
    const msgs = splitMbox(box).map(b => b.toString())
    assert.equal(msgs.length, 2)
    assert.match(msgs[0] ?? '', /^Subject: one\n\nFrom here\n$/)
  })
})

describe('spam: tokens', () => {
  it('prefixes header words and keeps body words once', () => {
    const t = tokensOf(readMail(hamText))
    assert.ok(t.has('subject:minutes'))
    assert.ok(t.has('compiler'))
    assert.ok(t.has('message-id:example.org'))
    assert.ok(!t.has('hi'), 'words shorter than 3 are dropped')
  })
  it('ignores other filters\' verdict headers', () => {
    const t = tokensOf(readMail(mail('X-Spam-Status: Yes, score=20\nSubject: x', 'body text')))
    assert.ok(![...t].some(k => k.includes('x-spam')))
  })
  it('counts HTML by its words, not by its tag names or declarations', () => {
    const html = '<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN"><html><body><font size=3><p>cheap <b>watches</b></p></font></body></html>'
    const t = tokensOf(readMail(mail('Subject: x\nContent-Type: text/html; charset=us-ascii', html)))
    assert.ok(t.has('cheap') && t.has('watches'))
    assert.ok(![...t].some(k => k.startsWith('html:') || k.startsWith('hdr:') || k.startsWith('content-type:')), [...t].join(' '))
    assert.ok(!t.has('doctype') && !t.has('transitional'), 'the DOCTYPE declaration is markup, not words')
  })
  it('adds link hosts and their parent domains', () => {
    const t = tokensOf(readMail(mail('Subject: x', 'see http://a.b.example.com/path')))
    assert.ok(t.has('url:a.b.example.com') && t.has('url:example.com'))
  })
})

describe('spam: Bayes (Robinson-Fisher)', () => {
  it('chi2Q is 1 at 0 and falls with x', () => {
    assert.equal(chi2Q(0, 5), 1)
    assert.ok(chi2Q(40, 5) < 0.001)
  })
  it('pulls rare tokens toward the prior', () => {
    const m = new BayesModel()
    m.spamMessages = 100; m.hamMessages = 100
    const once = tokenProbability(1, 0, m, defaultBayesSettings)
    const often = tokenProbability(50, 0, m, defaultBayesSettings)
    assert.ok(once > 0.5 && once < often && often < 1)
  })
  it('is untrained below minMessages and separates trained classes', () => {
    const m = new BayesModel()
    assert.equal(classifyTokens(['x'], m).untrained, true)
    for (let i = 0; i < 60; i++) {
      m.learn(['viagra', 'offer', `s${i}`, 'common'], true)
      m.learn(['meeting', 'patch', `h${i}`, 'common'], false)
    }
    assert.ok(classifyTokens(['viagra', 'offer', 'common'], m).probability > 0.95)
    assert.ok(classifyTokens(['meeting', 'patch', 'common'], m).probability < 0.05)
    assert.equal(classifyTokens(['never-seen'], m).probability, 0.5)
  })
  it('unlearning restores the counts', () => {
    const m = new BayesModel()
    m.learn(['a', 'b'], true)
    m.learn(['a'], false)
    m.learn(['a', 'b'], true, -1)
    assert.deepEqual(m.counts('a'), [0, 1])
    assert.equal(m.counts('b'), undefined)
    assert.equal(m.spamMessages, 0)
  })
})

describe('spam: rules', () => {
  it('compiles the shipped rule set', () => {
    assert.ok(new RuleSet(defaultRules).size >= 30)
  })
  it('hits words, phrases, expressions and facts on the right targets', () => {
    const rules = new RuleSet([
      { name: 'W', target: 'body', words: ['claim'], score: 1 },
      { name: 'P', target: 'body', phrase: 'click   here', score: 1 },
      { name: 'R', target: 'subject', regex: '!{3}', score: 1 },
      { name: 'H', target: 'header:to', regex: 'undisclosed', flags: 'i', score: 1 },
      { name: 'F', fact: 'url-ip-literal', score: 1 },
      { name: 'MISS', target: 'subject', words: ['claim'], score: 1 },
    ])
    assert.deepEqual(rules.evaluate(readMail(spamHtml)).map(h => h.name), ['W', 'P', 'R', 'H', 'F'])
  })
  it('rejects a bad rule with its name', () => {
    assert.throws(() => new RuleSet([{ name: 'BAD', regex: '(a', score: 1 }]), /spam rule BAD: expression does not compile/)
    assert.throws(() => new RuleSet([{ name: 'BACKREF', regex: '(a)\\1', score: 1 }]), /BACKREF/)
    assert.throws(() => new RuleSet([{ name: 'TWO', words: ['a'], phrase: 'b', score: 1 }]), /exactly one/)
    assert.throws(() => new RuleSet([{ name: 'F', fact: 'nope', score: 1 }]), /unknown fact/)
    assert.throws(() => new RuleSet([{ name: 'D', words: ['a'], score: 1 }, { name: 'D', words: ['b'], score: 1 }]), /defined twice/)
  })
})

describe('spam: lists', () => {
  it('parses addresses and domains and matches subdomains', () => {
    const list = parseList('# comment\nspammer@bad.example\nbulk.example\nnot a line\n')
    assert.equal(list.entries, 2)
    assert.deepEqual(list.bad, ['not a line'])
    assert.ok(listed(list, 'spammer@bad.example'))
    assert.ok(listed(list, 'x@mail.bulk.example'))
    assert.ok(!listed(list, 'x@bad.example'))
    assert.ok(!listed(list, 'x@notbulk.example'))
  })
})

describe('SpamFilter.classify', () => {
  const model = new BayesModel()
  const filter = new SpamFilter({ rules: new RuleSet(defaultRules), model })
  it('rules alone flag an obvious spam and pass a normal mail', async () => {
    const spam = await filter.classify(spamHtml)
    assert.notEqual(spam.verdict, 'ham', `score ${spam.score}: ${spam.rules.map(r => r.name).join(',')}`)
    const ham = await filter.classify(hamText)
    assert.equal(ham.verdict, 'ham')
    assert.equal(ham.action, 'deliver')
    assert.deepEqual(ham.headers.map(h => h[0]), ['X-Spam-Status', 'X-Spam-Score', 'X-Spam-Rules'])
  })
  it('thresholds and actions come from the profile; suspect mail gets the subject tag', async () => {
    const low: SpamProfile = { name: 'low', suspectScore: -50, spamScore: 50, spamAction: 'quarantine', subjectTag: '[SPAM?]' }
    const r = await filter.classify(hamText, {}, low)
    assert.equal(r.verdict, 'suspect')
    assert.equal(r.action, 'tag')
    assert.equal(r.subject, '[SPAM?] minutes of the build meeting')
    const strict: SpamProfile = { ...low, suspectScore: -100, spamScore: -50 }
    assert.equal((await filter.classify(hamText, {}, strict)).action, 'quarantine')
  })
  it('a block list hit makes spam and an allow list hit makes ham', async () => {
    const lists = new SenderListSet()
    lists.set('blocked', 'block', parseList('example.org'))
    lists.set('friends', 'allow', parseList('cheap.example'))
    const f = new SpamFilter({ rules: new RuleSet(defaultRules), model, senderLists: lists })
    const blocked = await f.classify(hamText)
    assert.equal(blocked.verdict, 'spam')
    assert.ok(blocked.rules.some(h => h.name === 'LIST_BLOCK:blocked'))
    const allowed = await f.classify(spamHtml, { sender: 'deals4u123@cheap.example' })
    assert.equal(allowed.verdict, 'ham')
  })
  it('Bayes points join the score once the model is trained', async () => {
    const m = new BayesModel()
    const f = new SpamFilter({ rules: new RuleSet([]), model: m })
    for (let i = 0; i < 60; i++) {
      m.learn(tokensOf(readMail(mail(`Subject: cash offer ${i}`, `claim your prize winner ${i} lottery`))), true)
      m.learn(tokensOf(readMail(mail(`Subject: build ${i}`, `compiler patch review meeting ${i}`))), false)
    }
    const r = await f.classify(mail('Subject: cash offer', 'claim your lottery prize'))
    assert.ok(r.bayes.probability > 0.95)
    assert.ok(r.rules.some(h => h.name.startsWith('BAYES_9')))
    // The header-only reading (the subject's words here) adds its own band's points.
    const hdr = r.rules.find(h => h.name.startsWith('BAYES_HDR_'))
    assert.ok(hdr !== undefined && hdr.score > 0 && hdr.score <= 9, JSON.stringify(r.rules))
    assert.equal(r.verdict, defaultSpamProfile.spamScore <= r.score ? 'spam' : 'suspect')
  })
})
