/// Compiled AutoIt scripts, InstallShield setup overlays and yC-encrypted programs, built here
/// (test/helpers/) around a payload whose MD5 is the only signature: a detection proves the payload
/// came out byte for byte, through the PE handler's unpackers. Damaged and truncated variants must
/// end cleanly.
import assert from 'node:assert/strict'
import { hashOnlyEngine, scanBytes } from '../../helpers/engine.js'
import { autoItScript, installShieldEncrypted, installShieldPlain, peWithOverlay } from '../../helpers/installer-writer.js'
import { ycPair } from '../../helpers/yc-writer.js'
import { unpackAutoIt } from '../../../src/engine/formats/unpack/autoit.js'

const payload = Buffer.from(Array.from({ length: 200 }, (_, i) => `payload line ${i % 17} of the dropped program ${i}\n`).join(''), 'latin1')
const script = Buffer.from('MsgBox(0, "hello", "world")\r\nFileInstall("payload.exe", @TempDir & "\\\\payload.exe")\r\n', 'latin1')

describe('AutoIt and InstallShield unpackers', function () {
  this.timeout(60_000)

  for (const tag of ['EA05', 'EA06'] as const) {
    for (const compress of [false, true]) {
      it(`AutoIt ${tag} (${compress ? 'compressed' : 'stored'}): the embedded file comes out byte for byte`, async () => {
        const exe = peWithOverlay(autoItScript(tag, [
          { type: '>AUTOIT SCRIPT<', name: 'script.au3', bytes: script, compress },
          { type: 'C:\\build\\payload.exe', name: 'C:\\build\\payload.exe', bytes: payload, compress },
        ]))
        const verdict = await scanBytes(await hashOnlyEngine(payload, 'Test.AutoIt.Payload'), exe, 'compiled.exe')
        assert.equal(verdict.status, 'infected', JSON.stringify(verdict.findings))
        assert.deepEqual(verdict.findings[0]?.path, ['compiled.exe', 'payload.exe'])
      })
    }
  }

  it('AutoIt: truncated or corrupted records end the walk with what came before', async () => {
    const body = autoItScript('EA06', [{ type: 'x', name: 'first.bin', bytes: payload, compress: true }, { type: 'y', name: 'second.bin', bytes: script, compress: true }])
    for (let cut = 24; cut < body.length; cut += 97) {
      const result = unpackAutoIt(body.subarray(0, cut), 0, 1 << 20)
      if (typeof result !== 'string') for (const f of result) assert.ok(f.bytes.length <= payload.length)
    }
    const lying = Buffer.from(body)
    lying.writeUInt32LE(0x7fffffff, 40 + 4) // the first record's type length
    assert.equal(typeof unpackAutoIt(lying, 0, 1 << 20), 'string')
    const engine = await hashOnlyEngine(payload, 'Test.AutoIt.Payload')
    assert.equal((await scanBytes(engine, peWithOverlay(lying), 'lying.exe')).status, 'clean')
  })

  it('InstallShield plain overlay: each record is a child', async () => {
    const exe = peWithOverlay(installShieldPlain([['readme.txt', script], ['payload.exe', payload]]))
    const verdict = await scanBytes(await hashOnlyEngine(payload, 'Test.IS.Payload'), exe, 'setup.exe')
    assert.equal(verdict.status, 'infected', JSON.stringify(verdict.findings))
    assert.deepEqual(verdict.findings[0]?.path, ['setup.exe', 'payload.exe'])
  })

  it('InstallShield encrypted overlay: decrypted with the name-derived key and inflated', async () => {
    const exe = peWithOverlay(installShieldEncrypted([['setup.ini', script], ['payload.exe', payload]]))
    const verdict = await scanBytes(await hashOnlyEngine(payload, 'Test.IS.Payload'), exe, 'setup.exe')
    assert.equal(verdict.status, 'infected', JSON.stringify(verdict.findings))
    assert.deepEqual(verdict.findings[0]?.path, ['setup.exe', 'payload.exe'])
  })

  it('InstallShield: a size past the end or a damaged stream yields no child and no crash', async () => {
    const engine = await hashOnlyEngine(payload, 'Test.IS.Payload')
    const encrypted = installShieldEncrypted([['payload.exe', payload]])
    const damaged = Buffer.from(encrypted)
    damaged.writeUInt32LE(0xfffffff0, 8 + 46 + 268)
    assert.equal((await scanBytes(engine, peWithOverlay(damaged), 'setup.exe')).status, 'clean')
    const flipped = Buffer.from(encrypted)
    for (let i = 8 + 46 + 312 + 10; i < flipped.length; i += 7) flipped[i] = flipped[i]! ^ 0x55
    assert.notEqual((await scanBytes(engine, peWithOverlay(flipped), 'setup.exe')).status, 'infected')
    const plain = installShieldPlain([['payload.exe', payload]])
    assert.equal((await scanBytes(engine, peWithOverlay(plain.subarray(0, plain.length - 1)), 'setup.exe')).status, 'clean')
  })
})

describe('yC unpacker', function () {
  this.timeout(60_000)

  it('decrypts the stub and the sections back to the plain program, byte for byte', async () => {
    const code = Buffer.from(Array.from({ length: 0x200 }, (_, i) => (i * 37 + 11) & 0xff))
    const { plain, packed } = ycPair(code)
    assert.notDeepEqual(packed, plain)
    const verdict = await scanBytes(await hashOnlyEngine(plain, 'Test.yC.Plain'), packed, 'yc.exe')
    assert.equal(verdict.status, 'infected', JSON.stringify(verdict.findings))
    assert.deepEqual(verdict.findings[0]?.path, ['yc.exe', 'yc-decrypted'])
  })

  it('an opcode outside the decryptor set or a lying loop length gives no child', async () => {
    const { plain, packed } = ycPair(Buffer.alloc(0x200, 0x41))
    const engine = await hashOnlyEngine(plain, 'Test.yC.Plain')
    const unknownOp = Buffer.from(packed)
    unknownOp[0x600 + 0x93] = 0x0f
    assert.equal((await scanBytes(engine, unknownOp, 'yc.exe')).status, 'clean')
    const tooLong = Buffer.from(packed)
    tooLong.writeUInt32LE(0xffffff00, 0x600 + 0x60 + 0x14)
    assert.equal((await scanBytes(engine, tooLong, 'yc.exe')).status, 'clean')
  })
})
