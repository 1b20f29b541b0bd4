/// The milter's mail filter steps with the real filters (shipped spam rules, an empty Bayes model,
/// real content rules): which step a message gets (our networks, SASL, size), the spam step's
/// header fields, subject tag and replies per profile action, the content step's replies, kept
/// copies and notifications resolved to addresses.
import assert from 'node:assert/strict'
import type { MessageSummary, MilterEnvelope, Modification } from '../../../protocols/milter/index.js'
import { milterFilters, type FilterStep } from '../../../src/milter/filter-step.js'
import { spamStep } from '../../../src/milter/spam-step.js'
import { contentStep } from '../../../src/milter/content-step.js'
import { networkMatcher } from '../../../config/networks.js'
import { SpamFilter, defaultSpamProfile } from '../../../src/spam/filter.js'
import { BayesModel } from '../../../src/spam/bayes.js'
import { spamRules } from '../../../src/spam/setup.js'
import { ContentFilter } from '../../../src/content-filter/filter.js'

function envelope (address: string, macros: Record<string, string> = {}): MilterEnvelope {
  return {
    remote: '127.0.0.1:40000',
    listener: 'tcp',
    client: { hostname: 'client.example', family: 'inet', address, port: 50000 },
    helo: 'client.example',
    sender: '<ann@example.org>',
    senderArgs: [],
    recipients: ['<bob@example.net>', '<carol@example.net>'],
    macros: new Map(Object.entries(macros)),
  }
}

/// A message as the connection hands it over: header values with their leading space (HDR_LEADSPC).
function message (headers: ReadonlyArray<[string, string]>, body: string): { bytes: Uint8Array, summary: MessageSummary } {
  const text = `${headers.map(([n, v]) => `${n}:${v}`).join('\r\n')}\r\n\r\n${body.replace(/\n/g, '\r\n')}`
  return { bytes: Buffer.from(text), summary: { size: text.length, headers: headers.map(([name, value]) => ({ name, value })), overLimit: undefined } }
}

const suspect = message([['From', ' <news@shop.example>'], ['Subject', ' =?utf-8?B?R3LDvMOfZQ==?= sample'], ['Date', ' Wed, 03 Dec 2026 08:00:00 +0000'], ['Message-ID', ' <s@shop.example>'], ['X-Spam-Status', ' No, forged']],
  'Dear customer,\nyou have been selected for a sample of our viagra alternative.\nClick here and order now.\n')
const signal = new AbortController().signal
const spamFilter = new SpamFilter({ rules: spamRules(''), model: new BayesModel() })
const noStep: FilterStep = async () => await Promise.reject(new Error('not this step'))

describe('milter: the mail filter steps', () => {
  it('sends outgoing mail (our networks, or SASL) to the content step, the rest to the spam step, none past their size', () => {
    const spam = { maxBytes: 1000, run: noStep }
    const content = { maxBytes: 2000, run: noStep }
    const filters = milterFilters(networkMatcher(['192.0.2.0/24']), { spam, content })
    assert.equal(filters?.stepFor(envelope('192.0.2.9'), 10), content.run)
    assert.equal(filters?.stepFor(envelope('203.0.113.5', { auth_authen: 'ann' }), 10), content.run)
    assert.equal(filters?.stepFor(envelope('203.0.113.5'), 10), spam.run)
    assert.equal(filters?.stepFor(envelope('203.0.113.5'), 1001), undefined)
    assert.equal(milterFilters(networkMatcher([]), { spam: undefined, content: undefined }), undefined)
    assert.equal(milterFilters(networkMatcher([]), { content })?.stepFor(envelope('203.0.113.5'), 10), undefined, 'incoming mail with no spam filter: no step')
  })

  it('tags suspect mail: X-Spam-* fields (the forged one changed in place), the tag before the subject as sent', async () => {
    const rows: unknown[] = []
    const step = spamStep({ filter: spamFilter, profile: { ...defaultSpamProfile, suspectScore: 2, spamScore: 50 }, reply: { code: '550', text: '5.7.1 Spam (score {score})' }, results: { record: r => rows.push(r) } })
    const out = await step(suspect.bytes, envelope('203.0.113.5'), suspect.summary, signal)
    assert.deepEqual(out.verdict, { kind: 'accept' })
    assert.equal(out.summary.verdict, 'suspect')
    const mods = out.modifications as Modification[]
    assert.deepEqual(mods.find(m => m.kind === 'changeHeader' && m.name === 'X-Spam-Status')?.kind, 'changeHeader')
    assert.ok(mods.some(m => m.kind === 'addHeader' && m.name === 'X-Spam-Rules' && m.value.includes('BODY_PHARMA')))
    assert.deepEqual(mods.find(m => m.kind === 'changeHeader' && m.name === 'Subject'), { kind: 'changeHeader', index: 1, name: 'Subject', value: '[SPAM?] =?utf-8?B?R3LDvMOfZQ==?= sample' })
    assert.equal(rows.length, 1)
  })

  it('refuses spam with the reply naming its score, or quarantines it (hold queue and ours) as the profile says', async () => {
    const reply = { code: '550', text: '5.7.1 Spam (score {score}; {rules})' }
    const reject = await spamStep({ filter: spamFilter, profile: { ...defaultSpamProfile, suspectScore: 1, spamScore: 2 }, reply })(suspect.bytes, envelope('203.0.113.5'), suspect.summary, signal)
    assert.equal(reject.verdict.kind, 'reply')
    assert.match(reject.verdict.kind === 'reply' ? reject.verdict.text : '', /^5\.7\.1 Spam \(score [\d.]+; .*BODY_PHARMA/)
    assert.equal(reject.summary.stopped, true)
    const held = await spamStep({ filter: spamFilter, profile: { ...defaultSpamProfile, suspectScore: 1, spamScore: 2, spamAction: 'quarantine' }, reply })(suspect.bytes, envelope('203.0.113.5'), suspect.summary, signal)
    assert.deepEqual(held.verdict, { kind: 'accept' })
    assert.ok(held.modifications.some(m => m.kind === 'quarantine' && /^spam score /.test(m.reason)))
    assert.equal(held.keep?.threat, 'Spam')
  })

  it('blocks, archives or passes outgoing content per rule, and resolves notifications to addresses', async () => {
    const card = message([['From', ' <ann@example.org>'], ['Subject', ' =?utf-8?B?R3LDvMOfZQ==?=']], 'card 4111 1111 1111 1111\n')
    const sent: Array<{ to: readonly string[], subject: string, text: string }> = []
    const send = (to: readonly string[], subject: string, text: string): void => { sent.push({ to, subject, text }) }
    const reply = { code: '550', text: '5.7.1 Refused ({rule})' }
    const block = contentStep({ filter: new ContentFilter({ rules: [{ name: 'cards', action: 'block', detect: 'card', notify: ['sender', 'admin', 'recipients'] }] }), reply, send, admin: 'sec@example.org' })
    const refused = await block(card.bytes, envelope('192.0.2.9'), card.summary, signal)
    assert.deepEqual(refused.verdict, { kind: 'reply', code: '550', text: '5.7.1 Refused (cards)' })
    assert.deepEqual(sent.map(s => s.to), [['ann@example.org'], ['sec@example.org'], ['bob@example.net', 'carol@example.net']])
    assert.match(sent[0]?.text ?? '', /"Grüße"/, 'the subject decoded in the notification')
    const archive = contentStep({ filter: new ContentFilter({ rules: [{ name: 'cards', action: 'archive', detect: 'card' }] }), reply, admin: '' })
    const archived = await archive(card.bytes, envelope('192.0.2.9'), card.summary, signal)
    assert.deepEqual([archived.verdict, archived.keep], [{ kind: 'accept' }, { threat: 'Content.cards', reason: 'content rule cards (archived)', release: true }])
    const clean = message([['Subject', ' hi']], 'nothing to see\n')
    const passed = await archive(clean.bytes, envelope('192.0.2.9'), clean.summary, signal)
    assert.deepEqual([passed.verdict, passed.keep, passed.summary.action], [{ kind: 'accept' }, undefined, 'pass'])
  })
})
