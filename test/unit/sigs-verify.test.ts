import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { buildCld, readCvd, verifyCvd } from '../../src/engine/signatures/cvd.js'
import { applyCdiff, fromLines, toLines, verifyCdiff, type UnpackedDb } from '../../src/engine/signatures/cdiff.js'
import { verifyInfo } from '../../src/engine/signatures/info.js'
import { clamavCdiffKey, clamavCvdKey, clamavInfoKey, decodeSignatureNumber, encodeSignatureNumber } from '../../src/engine/signatures/dsig.js'
import { buildCdiff, buildCvd, testKey } from '../helpers/signed-db.js'

const fixture = (name: string): Buffer => readFileSync(fileURLToPath(new URL(`../../../test/fixtures/clamav-signed/${name}`, import.meta.url)))
const clamavKeys = [clamavCvdKey, clamavCdiffKey, clamavInfoKey]

function flipped (file: Uint8Array, at: number): Uint8Array {
  const copy = Uint8Array.from(file)
  copy[at] = (copy[at] ?? 0) ^ 0x01
  return copy
}

function unpacked (cvd: Uint8Array): UnpackedDb {
  const r = readCvd(cvd)
  assert.ok(typeof r !== 'string', String(r))
  return new Map(r.entries.map(e => [e.name, toLines(e.data)]))
}

const asFiles = (db: UnpackedDb): Map<string, Uint8Array> => new Map([...db].map(([k, v]) => [k, fromLines(v)]))

describe('ClamAV update file signatures (dsig, CVD, cdiff, .info)', () => {
  it('encodes numbers in ClamAV\'s base-64 variant, least significant digit first', () => {
    assert.equal(decodeSignatureNumber('ba'), 1n)
    assert.equal(decodeSignatureNumber('ab'), 64n)
    assert.equal(decodeSignatureNumber('a-'), undefined)
    const n = 123456789012345678901234567890n
    assert.equal(decodeSignatureNumber(encodeSignatureNumber(n)), n)
  })

  it('accepts CVDs and cdiffs signed by ClamAV under its default keys, and a rebuilt .cld through its .info', () => {
    for (const name of ['test-1.cvd', 'test-2.cvd', 'test-3.cvd']) {
      const r = verifyCvd(fixture(name), clamavKeys)
      assert.ok(typeof r !== 'string', `${name}: ${String(r)}`)
      assert.equal(r.key?.name, 'clamav-cvd')
    }
    const db = unpacked(fixture('test-1.cvd'))
    for (const v of [2, 3]) {
      const r = verifyCdiff(fixture(`test-${v}.cdiff`), clamavKeys)
      assert.ok(typeof r !== 'string', String(r))
      assert.equal(r.key?.name, 'clamav-cdiff')
      applyCdiff(db, r.cdiff)
      const info = verifyInfo(asFiles(db), clamavKeys)
      assert.ok(typeof info !== 'string', String(info))
      assert.equal(info.version, v)
    }
    // Applying test-2 and test-3 to test-1 gives exactly the files of test-3.cvd.
    assert.deepEqual(asFiles(db), asFiles(unpacked(fixture('test-3.cvd'))))
  })

  it('refuses a ClamAV CVD or cdiff with one byte changed', () => {
    const cvd = fixture('test-2.cvd')
    assert.match(String(verifyCvd(flipped(cvd, 600), clamavKeys)), /MD5/)
    // A header whose MD5 matches a changed payload still fails on the signature.
    const header = Buffer.from(cvd.subarray(0, 512)).toString('latin1')
    const dsigAt = header.indexOf(':', header.indexOf(':', header.indexOf(':', header.indexOf(':', header.indexOf(':', 11) + 1) + 1) + 1) + 1) + 1
    assert.match(String(verifyCvd(flipped(cvd, dsigAt + 3), clamavKeys)), /digital signature/)
    const cdiff = fixture('test-2.cdiff')
    assert.match(String(verifyCdiff(flipped(cdiff, 40), clamavKeys)), /digital signature/)
  })

  it('accepts a CVD signed with a test key only when that key is trusted; ClamAV\'s key is the default', () => {
    const key = testKey()
    const cvd = buildCvd('daily', 7, { 'daily.ndb': 'Test.Sig:0:*:deadbeef\n' }, key)
    assert.match(String(verifyCvd(cvd, clamavKeys)), /does not verify under any trusted key/)
    const r = verifyCvd(cvd, [...clamavKeys, key.trusted])
    assert.ok(typeof r !== 'string', String(r))
    assert.equal(r.header.version, 7)
    assert.equal(r.key?.name, 'test-key')
    for (const at of [10, 300, 512, 520, cvd.length - 1]) assert.equal(typeof verifyCvd(flipped(cvd, at), [...clamavKeys, key.trusted]), 'string', `byte ${at} changed`)
    const unsigned = Buffer.from(cvd)
    const text = unsigned.subarray(0, 512).toString('latin1').split(':')
    text[6] = ''
    unsigned.write(text.join(':').padEnd(512, ' '), 0, 'latin1')
    assert.match(String(verifyCvd(unsigned, [key.trusted])), /unsigned/)
  })

  it('applies a test-signed cdiff to the unpacked copy, verifies the result by its .info, and writes a .cld', () => {
    const key = testKey()
    const keys = [key.trusted]
    const v1 = { 'daily.ndb': 'Test.One:0:*:deadbeef\n' }
    const v2 = { 'daily.ndb': 'Test.One:0:*:deadbeef\nTest.Two:0:*:cafebabe\n', 'daily.hdb': '44d88612fea8a8f36de82e1278abb02f:68:Eicar.Hash\n' }
    const db = unpacked(buildCvd('daily', 1, v1, key))
    const r = verifyCdiff(buildCdiff('daily', 2, v1, v2, key), keys)
    assert.ok(typeof r !== 'string', String(r))
    assert.match(String(verifyCdiff(buildCdiff('daily', 2, v1, v2, key), clamavKeys)), /does not verify/)
    applyCdiff(db, r.cdiff)
    const info = verifyInfo(asFiles(db), keys)
    assert.ok(typeof info !== 'string', String(info))
    assert.equal(info.version, 2)
    assert.deepEqual(db.get('daily.ndb'), ['Test.One:0:*:deadbeef', 'Test.Two:0:*:cafebabe'])
    // A file changed after the diff no longer matches the signed list.
    const tampered = asFiles(db)
    tampered.set('daily.ndb', Buffer.from('Evil:0:*:00\n'))
    assert.match(String(verifyInfo(tampered, keys)), /daily\.ndb does not match/)
    const cld = buildCld({ builtAt: 'now', version: 2, signatures: 3, flevel: 90, md5: '', dsig: '', builder: 'scanwall', time: 0 }, [...asFiles(db)].map(([name, data]) => ({ name, data })))
    const back = readCvd(cld)
    assert.ok(typeof back !== 'string', String(back))
    assert.equal(back.header.version, 2)
    assert.deepEqual(new Map(back.entries.map(e => [e.name, Buffer.from(e.data)])), new Map([...asFiles(db)].map(([k, v]) => [k, Buffer.from(v)])))
  })

  it('refuses a cdiff whose edits do not match the copy (a diff for another base version)', () => {
    const key = testKey()
    const db = unpacked(buildCvd('daily', 1, { 'daily.ndb': 'A:0:*:deadbeef\n' }, key))
    assert.throws(() => { applyCdiff(db, { version: 2, script: ['OPEN daily.ndb', 'XCHG 1 Nope New:0:*:00', 'CLOSE'] }) }, /line 1 does not start with 'Nope'/)
    assert.throws(() => { applyCdiff(db, { version: 2, script: ['OPEN daily.ndb', 'DEL 5 A', 'CLOSE'] }) }, /has no line 5/)
    assert.throws(() => { applyCdiff(db, { version: 2, script: ['OPEN ../etc/passwd', 'CLOSE'] }) }, /forbidden/)
    assert.deepEqual(db.get('daily.ndb'), ['A:0:*:deadbeef'])
  })
})
