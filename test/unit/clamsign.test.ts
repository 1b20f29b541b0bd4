/// ClamAV 1.5 `.sign` files: detached PKCS#7 signatures over a whole update file, accepted only
/// when a line chains to a trusted root and its digest matches the file's bytes.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { parseSignFile, trustedRoots, verifySignFile } from '../../src/updates/clamsign.js'
import { testSigner, type TestSigner } from '../helpers/sign-file.js'

describe('ClamAV .sign files (detached PKCS#7)', function () {
  this.timeout(60_000)
  let signer: TestSigner
  let stranger: TestSigner
  before(() => { signer = testSigner(); stranger = testSigner('Stranger') })
  after(() => { signer.close(); stranger.close() })
  const data = randomBytes(64 * 1024)

  it('accepts a signature whose signer chains to a trusted root, over exactly these bytes', async () => {
    const roots = trustedRoots([signer.rootPem])
    const sign = signer.sign(data)
    assert.equal(await verifySignFile(data, sign, roots), undefined)
    const changed = Buffer.from(data)
    changed.writeUInt8(changed.readUInt8(1000) ^ 1, 1000)
    assert.match(String(await verifySignFile(changed, sign, roots)), /digest/i)
    assert.match(String(await verifySignFile(data.subarray(1), sign, roots)), /digest/i)
  })

  it('refuses a signer that chains only to a root not configured (Cisco\'s alone, or another test root)', async () => {
    const sign = signer.sign(data)
    assert.match(String(await verifySignFile(data, sign, trustedRoots([]))), /no signature verifies under a trusted root.*certificate/i)
    assert.match(String(await verifySignFile(data, sign, trustedRoots([stranger.rootPem]))), /no signature verifies/)
  })

  it('accepts the file when one of several lines verifies, as libclamav does', async () => {
    const foreign = Buffer.from(stranger.sign(data)).toString('latin1').split('\n')[1] ?? ''
    const own = Buffer.from(signer.sign(data)).toString('latin1').split('\n')[1] ?? ''
    const both = Buffer.from(`#clamsign-1.0\n# a comment\n${foreign}\n\n${own}\n`)
    assert.equal(await verifySignFile(data, both, trustedRoots([signer.rootPem])), undefined)
    assert.match(String(await verifySignFile(data, both, trustedRoots([]))), /no signature verifies/)
  })

  it('reads the line format and refuses what is not one', () => {
    const lines = parseSignFile(Buffer.from('#clamsign-1.0\n220::pkcs7-pem:AAAA\n210:230:pkcs7-pem:BBBB\n220::future-format:CCCC\n'))
    assert.ok(Array.isArray(lines))
    assert.deepEqual(lines.map(l => [l.minFlevel, l.maxFlevel, l.der.length]), [[220, undefined, 3], [210, 230, 3]])
    assert.match(String(parseSignFile(Buffer.from('220::pkcs7-pem:AAAA\n'))), /no #clamsign header/)
    assert.match(String(parseSignFile(Buffer.from('#clamsign-2.0\n220::pkcs7-pem:AAAA\n'))), /unsupported signature file version 'clamsign-2.0'/)
    assert.match(String(parseSignFile(Buffer.from('#clamsign-1.0\n220::future-format:AAAA\n'))), /no pkcs7-pem signature line/)
    assert.match(String(parseSignFile(Buffer.from('#clamsign-1.0\n220::pkcs7-pem:not base64!\n'))), /not base64/)
    assert.match(String(parseSignFile(Buffer.from('#clamsign-1.0\nx2::pkcs7-pem:AAAA\n'))), /flevel/)
    assert.match(String(parseSignFile(Buffer.alloc(300 * 1024, 0x41))), /larger than/)
  })

  it('refuses garbage where the PKCS#7 should be, with a reason and no throw', async () => {
    const roots = trustedRoots([signer.rootPem])
    assert.match(String(await verifySignFile(data, Buffer.from(`#clamsign-1.0\n220::pkcs7-pem:${randomBytes(300).toString('base64')}\n`), roots)), /unreadable PKCS#7|not a PKCS#7/)
  })
})
