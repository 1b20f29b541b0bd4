/// Small mails matched on the calling thread (src/engine/mail-leaf.ts, through ScanService's inline
/// leaf scan): every mail here is scanned by a service with the inline scan on and by one that
/// sends everything to the pool (the walk), and the verdicts must be the same: status, findings with
/// their paths, bytes, objects, depth, facts. Text and HTML parts (plain, base64, quoted-printable,
/// multipart/alternative) are answered inline; attachments, containers, uuencoded blocks, data:
/// URIs, nested messages, large mails and mails that reach a scan limit go to the pool. The DB has
/// rules for the mail, HTML and normalised-text targets besides EICAR, so each layer's target counts.
import assert from 'node:assert/strict'
import { crc32, gzipSync } from 'node:zlib'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { ScanService } from '../../src/scan/service.js'
import { Metrics } from '../../src/metrics.js'
import { bundledSignaturesDir } from '../../config/schema.js'
import type { Verdict } from '../../src/engine/verdict.js'
import { eicar } from '../helpers/eicar.js'
import { zipOf } from '../helpers/zipwriter.js'
import { quotedPrintable } from '../helpers/mail.js'

const hexOf = (text: string): string => Buffer.from(text, 'latin1').toString('hex')
/// Rules whose layer type decides whether they match: mail (target 4), HTML (3), normalised text (7), any (0).
const rules = [
  `Test.Mail.Marker:4:*:${hexOf('X-Mail-Marker: bad')}`,
  `Test.Html.Marker:3:*:${hexOf('scanwall-html-marker')}`,
  `Test.Text.Marker:7:*:${hexOf('scanwall text marker')}`,
  `Test.Any.Marker:0:*:${hexOf('scanwall-any-marker')}`,
].join('\n') + '\n'

const crlf = (text: string): string => text.replace(/\r?\n/g, '\r\n')
const b64 = (bytes: Uint8Array | string): string => (Buffer.from(bytes).toString('base64').match(/.{1,76}/g) ?? []).join('\n')
const head = (contentType: string, extra: readonly string[] = []): string[] =>
  ['From: <a@scanwall.test>', 'To: <b@scanwall.test>', 'Subject: inline mail', 'MIME-Version: 1.0', `Content-Type: ${contentType}`, ...extra, '']
const mail = (lines: readonly string[]): Buffer => Buffer.from(crlf(lines.join('\n')), 'latin1')
const prose = (bytes: number): string => Array.from({ length: Math.ceil(bytes / 60) }, (_, i) => `line ${i} of a plain message about the quarterly figures`).join('\n')
const alternative = (text: string, html: string, encoding = '7bit'): Buffer => mail([
  ...head('multipart/alternative; boundary="alt"'), '--alt', 'Content-Type: text/plain; charset=utf-8', '', text, '--alt', 'Content-Type: text/html; charset=utf-8', `Content-Transfer-Encoding: ${encoding}`, '',
  encoding === 'base64' ? b64(html) : html, '--alt--', ''])
const attached = (name: string, type: string, bytes: Uint8Array): Buffer => mail([
  ...head('multipart/mixed; boundary="mix"'), '--mix', 'Content-Type: text/plain', '', 'see attachment', '--mix',
  `Content-Type: ${type}; name="${name}"`, 'Content-Transfer-Encoding: base64', `Content-Disposition: attachment; filename="${name}"`, '', b64(bytes), '--mix--', ''])
const eicarText = eicar.toString('latin1')

/// [what, mail, expected status, answered inline]
const cases: Array<[string, () => Buffer, Verdict['status'], boolean]> = [
  ['a 10 KiB plain-text mail', () => mail([...head('text/plain; charset=us-ascii'), prose(10_000)]), 'clean', true],
  ['EICAR in a 7bit text body (the message layer finds it)', () => mail([...head('text/plain'), 'hello', eicarText, '']), 'infected', true],
  ['EICAR in a base64 text part (only the decoded part shows it)', () => mail([...head('text/plain', ['Content-Transfer-Encoding: base64']), b64(eicar), '']), 'infected', true],
  ['EICAR in a quoted-printable text part', () => mail([...head('text/plain', ['Content-Transfer-Encoding: quoted-printable']), quotedPrintable(eicar), '']), 'infected', true],
  ['multipart/alternative, text and HTML, clean', () => alternative(prose(3000), `<html><body><p>${prose(3000)}</p></body></html>`), 'clean', true],
  ['multipart/alternative with a base64 HTML part holding an HTML-target rule', () => alternative('hi', '<html><body>scanwall-html-marker</body></html>', 'base64'), 'infected', true],
  ['an HTML-target rule in a text part (not HTML: no match)', () => mail([...head('text/plain', ['Content-Transfer-Encoding: base64']), b64('just scanwall-html-marker in text'), '']), 'clean', true],
  ['a mail-target rule in the headers', () => mail([...head('text/plain', ['X-Mail-Marker: bad']), 'hello', '']), 'infected', true],
  ['a normalised-text rule in a base64 text part, spaced and in capitals', () => mail([...head('text/plain', ['Content-Transfer-Encoding: base64']), b64('xx SCANWALL   Text  MARKER yy'), '']), 'infected', true],
  ['an any-target rule in a base64 text part', () => mail([...head('text/plain', ['Content-Transfer-Encoding: base64']), b64('a scanwall-any-marker b'), '']), 'infected', true],
  ['a script (#!) in a base64 text part', () => mail([...head('text/plain', ['Content-Transfer-Encoding: base64']), b64('#!/bin/sh\necho hi\n'), '']), 'clean', true],
  ['a text part named like a VBA module', () => mail([...head('text/plain', ['Content-Disposition: inline; filename="module1.vba"']), 'Sub Main()', 'End Sub', '']), 'clean', true],
  ['an empty part beside a text part', () => mail([...head('multipart/mixed; boundary="e"'), '--e', 'Content-Type: text/plain', '', '', '--e', 'Content-Type: text/plain', '', 'second', '--e--', '']), 'clean', true],
  ['EICAR in the second of two base64 text parts', () => mail([...head('multipart/mixed; boundary="t"'), '--t', 'Content-Type: text/plain', '', 'first', '--t', 'Content-Type: text/plain', 'Content-Transfer-Encoding: base64', '', b64(eicar), '--t--', '']), 'infected', true],
  ['EICAR in a data: URI of an HTML part (the HTML handler decodes it: the pool)', () => alternative('hi', `<html><body><a href="data:application/octet-stream;base64,${eicar.toString('base64')}">x</a></body></html>`, 'base64'), 'infected', false],
  ['EICAR uuencoded inside a text part (a block: the pool)', () => mail([...head('text/plain'), 'see below', 'begin 644 eicar.com', ...uuencode(eicar), '`', 'end', '']), 'infected', false],
  ['a text part that says begin, with no block', () => mail([...head('text/plain'), 'we begin at nine; the =ybegin of nothing', '']), 'clean', true],
  ['EICAR in a yEnc block inside a text part (a block: the pool)', () => mail([...head('text/plain'), 'file:', `=ybegin line=128 size=${eicar.length} name=e.com`, yenc(eicar), '=yend', '']), 'infected', false],
  ['EICAR in a zip attachment (a container: the pool)', () => attached('a.zip', 'application/zip', zipOf([{ name: 'eicar.com', method: 0, data: eicar, size: eicar.length, crc: crc32(eicar) }])), 'infected', false],
  ['a gzip attachment, clean (a container: the pool)', () => attached('a.gz', 'application/gzip', gzipSync(Buffer.from(prose(2000)))), 'clean', false],
  ['a binary attachment (the pool)', () => attached('a.bin', 'application/octet-stream', Buffer.from(prose(500))), 'clean', false],
  ['a nested message (the pool)', () => mail([...head('multipart/mixed; boundary="n"'), '--n', 'Content-Type: message/rfc822', '', ...head('text/plain'), 'inner', '--n--', '']), 'clean', false],
  ['a text part holding a PE (a handler: the pool)', () => mail([...head('text/plain', ['Content-Transfer-Encoding: base64']), b64(Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200)])), '']), 'clean', false],
  ['a plain-text mail over 64 KiB (the pool)', () => mail([...head('text/plain'), prose(70_000)]), 'clean', false],
]

/// uuencode's lines (45 bytes each, a length character first, 0 written as a backquote).
function uuencode (bytes: Buffer): string[] {
  const lines: string[] = []
  for (let at = 0; at < bytes.length; at += 45) {
    const chunk = bytes.subarray(at, at + 45)
    let line = String.fromCharCode(32 + chunk.length)
    for (let i = 0; i < chunk.length; i += 3) {
      const [a = 0, b = 0, c = 0] = chunk.subarray(i, i + 3)
      line += [a >> 2, ((a & 3) << 4) | (b >> 4), ((b & 15) << 2) | (c >> 6), c & 63].map(n => String.fromCharCode(n === 0 ? 96 : n + 32)).join('')
    }
    lines.push(line)
  }
  return lines
}

/// yEnc: each byte plus 42, NUL, LF, CR and = escaped with = (plus 64).
function yenc (bytes: Buffer): string {
  let out = ''
  for (const b of bytes) {
    const c = (b + 42) & 255
    out += [0, 10, 13, 61].includes(c) ? `=${String.fromCharCode((c + 64) & 255)}` : String.fromCharCode(c)
  }
  return out
}

/// What must be equal both ways (the time taken is not).
const comparable = (v: Verdict): unknown => ({ status: v.status, findings: v.findings, stats: { bytes: v.stats.bytes, objects: v.stats.objects, depth: v.stats.depth }, facts: v.facts, error: v.error })

describe('ScanService: small mails whose parts are text leaves matched without a worker, with the walk\'s verdict', function () {
  this.timeout(60_000)
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-inline-mail-'))
  const sigs = join(dir, 'db')
  after(() => { rmSync(dir, { recursive: true, force: true }) })
  const services: Record<'inline' | 'pooled' | 'inlineLimited' | 'pooledLimited', ScanService | undefined> = { inline: undefined, pooled: undefined, inlineLimited: undefined, pooledLimited: undefined }

  before(async () => {
    mkdirSync(sigs)
    for (const file of readdirSync(bundledSignaturesDir)) copyFileSync(join(bundledSignaturesDir, file), join(sigs, file))
    writeFileSync(join(sigs, 'targets.ndb'), rules)
    const base = { workers: 1, maxQueue: 8, workerMaxOldGenMb: 128, memoryLimit: 1 << 20, spoolDir: dir, timeoutMs: 10_000, signaturesDir: sigs }
    const log = pino({ level: 'silent' })
    // A part over 1000 bytes breaks MaxFileSize: the walk records it, the inline scan leaves it to the walk.
    const limited = { limits: { maxFileBytes: 1000 } }
    ;[services.inline, services.pooled, services.inlineLimited, services.pooledLimited] = await Promise.all([
      ScanService.start({ ...base, inlineMaxBytes: 64 * 1024 }, new Metrics(), log),
      ScanService.start({ ...base, inlineMaxBytes: 0 }, new Metrics(), log),
      ScanService.start({ ...base, ...limited, inlineMaxBytes: 64 * 1024 }, new Metrics(), log),
      ScanService.start({ ...base, ...limited, inlineMaxBytes: 0 }, new Metrics(), log),
    ])
  })
  after(async () => { await Promise.all(Object.values(services).map(async s => await s?.close())) })

  async function scan (service: ScanService | undefined, bytes: Uint8Array): Promise<{ verdict: Verdict, inline: number }> {
    assert.ok(service !== undefined)
    const sink = service.openSink(bytes.length)
    await sink.write(bytes)
    const before = service.inlineScans
    const { verdict } = await service.scan(await sink.finish(), { service: 'milter' }, new AbortController().signal)
    return { verdict, inline: service.inlineScans - before }
  }

  for (const [what, make, status, expectInline] of cases) {
    it(`${what}: ${status}, ${expectInline ? 'on the calling thread' : 'in the pool'}, the same verdict as the walk`, async () => {
      const bytes = make()
      const fast = await scan(services.inline, bytes)
      const slow = await scan(services.pooled, bytes)
      assert.equal(fast.inline, expectInline ? 1 : 0, 'where it was scanned')
      assert.equal(slow.inline, 0)
      assert.equal(fast.verdict.status, status, JSON.stringify(fast.verdict.findings))
      assert.deepEqual(comparable(fast.verdict), comparable(slow.verdict))
    })
  }

  it('leaves a mail that reaches a scan limit to the walk, which records it', async () => {
    const bytes = mail([...head('text/plain', ['Content-Transfer-Encoding: base64']), b64(prose(3000)), ''])
    const fast = await scan(services.inlineLimited, bytes)
    const slow = await scan(services.pooledLimited, bytes)
    assert.equal(fast.inline, 0)
    assert.equal(fast.verdict.status, 'limit')
    assert.deepEqual(fast.verdict.findings.map(f => f.name), ['Heuristics.Limits.Exceeded.MaxFileSize'])
    assert.deepEqual(comparable(fast.verdict), comparable(slow.verdict))
    // A part under the limit is still answered inline under the same limits.
    const small = mail([...head('text/plain', ['Content-Transfer-Encoding: base64']), b64('short note'), ''])
    assert.equal((await scan(services.inlineLimited, small)).inline, 1)
  })
})
