import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findCardNumbers, findIbans, ibanValid, luhnValid } from '../../../src/content-filter/detectors.js'
import { ContentFilter } from '../../../src/content-filter/filter.js'
import { leafText } from '../../../src/content-filter/text-layers.js'

// Test numbers the card networks and banks publish for testing (never real accounts).
const visaTest = '4111111111111111'
const ibanTest = 'DE89370400440532013000'

describe('content filter: detectors', () => {
  it('Luhn accepts test card numbers and rejects a changed digit', () => {
    assert.ok(luhnValid(visaTest))
    assert.ok(luhnValid('5500005555555559'))
    assert.ok(!luhnValid('4111111111111112'))
  })
  it('finds grouped card numbers, not order numbers or longer digit runs', () => {
    assert.deepEqual(findCardNumbers('card 4111 1111 1111 1111, exp 12/30'), [visaTest])
    assert.deepEqual(findCardNumbers('amex 3782-822463-10005'), ['378282246310005'])
    assert.deepEqual(findCardNumbers('order 1234567812345670 and 41111111111111110000'), [])
  })
  it('mod-97 accepts IBANs and rejects a changed digit or a wrong length', () => {
    assert.ok(ibanValid(ibanTest))
    assert.ok(ibanValid('GB82WEST12345698765432'))
    assert.ok(!ibanValid('DE89370400440532013001'))
    assert.ok(!ibanValid('DE8937040044053201300'))
  })
  it('finds IBANs written in groups of four', () => {
    assert.deepEqual(findIbans('pay to DE89 3704 0044 0532 0130 00 today'), [ibanTest])
    assert.deepEqual(findIbans('ref AB12 3456 7890 1234'), [])
  })
})

describe('ContentFilter.check', () => {
  const filter = new ContentFilter({
    rules: [
      { name: 'cards', detect: 'card', action: 'quarantine', notify: ['admin'] },
      { name: 'iban', detect: 'iban', action: 'block', notify: ['sender'] },
      { name: 'secret', words: ['project bluebird', 'confidential'], action: 'archive' },
      { name: 'many-cards', detect: 'card', minMatches: 3, action: 'block' },
    ],
  })
  it('finds a card number in the body of a mail and renders the admin notice', async () => {
    const m = Buffer.from(`From: ann@example.org\r\nTo: bob@example.net\r\nSubject: order\r\n\r\nMy card is ${visaTest}.\r\n`)
    const r = await filter.check(m, { kind: 'mail', sender: 'ann@example.org', recipients: ['bob@example.net'], subject: 'order' })
    assert.equal(r.action, 'quarantine')
    assert.deepEqual(r.hits.map(h => h.rule), ['cards'])
    assert.equal(r.notifications.length, 1)
    assert.equal(r.notifications[0]?.to, 'admin')
    assert.match(r.notifications[0]?.body ?? '', /"order" from ann@example.org to bob@example.net is held/)
  })
  it('reads attachments the engine opens: a zip holding a docx-like XML, base64 in a mail', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-test-'))
    try {
      mkdirSync(join(dir, 'word'))
      // OOXML splits words across runs; the IBAN is split the same way.
      writeFileSync(join(dir, 'word', 'document.xml'), '<?xml version="1.0"?><w:document><w:body><w:p><w:r><w:t>IBAN DE89 3704</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t> 0044 0532 0130 00</w:t></w:r></w:p></w:body></w:document>')
      execFileSync('zip', ['-q', '-r', join(dir, 'letter.docx'), 'word'], { cwd: dir })
      const docx = readFileSync(join(dir, 'letter.docx'))
      const m = Buffer.from(['From: a@example.org', 'Subject: letter', 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain', '', 'see attached', '--b',
        'Content-Type: application/octet-stream; name=letter.docx', 'Content-Transfer-Encoding: base64', '', docx.toString('base64').replace(/.{76}/g, '$&\r\n'), '--b--', ''].join('\r\n'))
      const r = await filter.check(m, { kind: 'mail' })
      assert.equal(r.action, 'block')
      assert.match(r.hits[0]?.where ?? '', /letter\.docx\/word\/document\.xml/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
  it('counts matches across layers for minMatches and takes the strongest action', async () => {
    const body = Buffer.from(`confidential: ${visaTest} 5500005555555559 378282246310005`)
    const r = await filter.check(body, { kind: 'upload', url: 'http://x.example/up' })
    assert.deepEqual(r.hits.map(h => h.rule).sort(), ['cards', 'many-cards', 'secret'])
    assert.equal(r.action, 'block')
  })
  it('passes clean content', async () => {
    assert.equal((await filter.check(Buffer.from('nothing to see'), { kind: 'upload' })).action, 'pass')
  })
  it('reads UTF-16 text', () => {
    assert.match(leafText(Buffer.from(`some text with ${ibanTest} inside it`, 'utf16le')), /DE89370400440532013000/)
  })
  it('rejects a bad rule at construction, naming it', () => {
    assert.throws(() => new ContentFilter({ rules: [{ name: 'x', action: 'explode' as 'log', words: ['a'] }] }), /content rule x: action/)
    assert.throws(() => new ContentFilter({ rules: [{ name: 'y', action: 'log', detect: 'ssn' as 'card' }] }), /content rule y: detect/)
    assert.throws(() => new ContentFilter({ rules: [{ name: 'z', action: 'log', words: ['a'], template: 'nope' }] }), /no template 'nope'/)
  })
})
