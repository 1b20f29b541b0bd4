/// The x86-emulated unpacker (src/engine/formats/unpack/emulated.ts, x86/) and embedded-PE carving,
/// on PEs built here: a stub that xor-decrypts its data section, one that reaches its decryptor
/// through an SEH handler (int3, CONTEXT.Eip rewritten, the frame unlinked), a stub that never ends,
/// and junk at the entry point. The only signature is the hash of a small program carried inside,
/// so a detection proves it came out byte for byte. clamav-testfiles' real packers are the
/// yardstick test's (test/integration/testfiles.test.ts).
import assert from 'node:assert/strict'
import { hashOnlyEngine, scanBytes } from '../../helpers/engine.js'
import { peWithSections } from '../../helpers/installer-writer.js'
import { readExecutable } from '../../../src/engine/executable/read.js'
import { emulatePe } from '../../../src/engine/formats/unpack/x86/emulator.js'
import { looksSelfUnpacking } from '../../../src/engine/formats/unpack/emulated.js'

const dataVa = 0x402000
const key = 0x5a

/// The program the packed one carries: a PE of its own, so carving must find it by its headers.
const inner = peWithSections([['.text', Buffer.from('\xc3inner program for the emulator test', 'latin1')]])
const payload = Buffer.concat([Buffer.from('some data before the carried program '.repeat(4), 'latin1'), inner])

const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]

/// mov esi, data; mov edi, esi; mov ecx, n; l: lodsb; xor al, key; stosb; loop l; ret
const decryptor = [0xbe, ...le32(dataVa), 0x8b, 0xfe, 0xb9, ...le32(payload.length), 0xac, 0x34, key, 0xaa, 0xe2, 0xfa, 0xc3]

/// push handler; push fs:[0]; mov fs:[0], esp; int3; jmp $ ─ handler: mov eax, [esp+12] (CONTEXT);
/// mov [eax+0xb8], resume; xor eax, eax; ret ─ resume: pop fs:[0]; add esp, 4; then the decryptor.
function sehStub (): number[] {
  const handler = 0x401000 + 22
  const resume = 0x401000 + 39
  return [0x68, ...le32(handler), 0x64, 0xff, 0x35, 0, 0, 0, 0, 0x64, 0x89, 0x25, 0, 0, 0, 0, 0xcc, 0xeb, 0xfe,
    0x8b, 0x44, 0x24, 0x0c, 0xc7, 0x80, 0xb8, 0, 0, 0, ...le32(resume), 0x31, 0xc0, 0xc3,
    0x64, 0x8f, 0x05, 0, 0, 0, 0, 0x83, 0xc4, 0x04, ...decryptor]
}

/// A PE whose writable code section holds `stub` and whose data section holds the encrypted payload.
function packed (stub: readonly number[]): Buffer {
  const file = peWithSections([['.text', Uint8Array.from(stub)], ['.data', payload.map(b => b ^ key)]])
  file.writeUInt32LE(0xe0000020, 0x98 + 0xe0 + 36) // .text: code, read, write, execute
  file.writeUInt32LE(0xc0000040, 0x98 + 0xe0 + 40 + 36)
  return file
}

describe('x86-emulated unpacker and embedded programs', function () {
  this.timeout(60_000)

  for (const [label, stub] of [['xor loop', decryptor], ['SEH detour', sehStub()]] as const) {
    it(`${label}: runs the stub and finds the carried program by its hash`, async () => {
      const file = packed(stub)
      assert.equal(file.indexOf(inner), -1, 'the carried program must not be readable in the packed file')
      assert.ok(looksSelfUnpacking(file, readExecutable(file)!))
      const run = emulatePe(file, readExecutable(file)!, { maxSteps: 100_000, maxMemory: 16 << 20 })
      assert.ok(typeof run !== 'string', String(run))
      assert.equal(run.stop, 'called ExitThread')
      const engine = await hashOnlyEngine(inner, 'Test.Emulated.Inner')
      const verdict = await scanBytes(engine, file, 'packed.exe')
      assert.equal(verdict.status, 'infected', JSON.stringify(verdict.findings))
      assert.match(verdict.findings[0]!.path.join('/'), /^packed\.exe\/emulated-image@\d+\.exe$/)
    })
  }

  it('a stub that never ends stops at the step budget (REP iterations counted); junk at the entry point stops at a fault', async () => {
    const loop = packed([0xeb, 0xfe])
    const run = emulatePe(loop, readExecutable(loop)!, { maxSteps: 10_000, maxMemory: 16 << 20 })
    assert.ok(typeof run !== 'string' && run.stop === 'step budget used up' && run.steps === 10_000)
    // l: mov esi, image; mov ecx, 0x3000; rep lodsb; jmp l: each REP iteration counts against the budget
    const reps = packed([0xbe, ...le32(0x400000), 0xb9, ...le32(0x3000), 0xf3, 0xac, 0xeb, 0xf2])
    const bounded = emulatePe(reps, readExecutable(reps)!, { maxSteps: 100_000, maxMemory: 16 << 20 })
    assert.ok(typeof bounded !== 'string' && bounded.stop === 'step budget used up' && bounded.steps < 100, JSON.stringify(bounded))
    const junk = packed([0x0f, 0x0b, 0xff, 0xff])
    const fault = emulatePe(junk, readExecutable(junk)!, { maxSteps: 10_000, maxMemory: 16 << 20 })
    assert.ok(typeof fault !== 'string' && fault.stop.startsWith('unhandled exception 0xc000001d'), JSON.stringify(fault))
    const engine = await hashOnlyEngine(inner, 'Test.Emulated.Inner')
    assert.equal((await scanBytes(engine, junk, 'junk.exe')).status, 'clean')
  })

  it('a compiled program (entry point in a read-only .text) is not emulated', () => {
    const plain = peWithSections([['.text', Uint8Array.of(0xc3)]])
    plain.writeUInt32LE(0x60000020, 0x98 + 0xe0 + 36)
    assert.equal(looksSelfUnpacking(plain, readExecutable(plain)!), false)
  })

  it('carves a program carried whole in the last section, as ClamAV does', async () => {
    const file = peWithSections([['.text', Uint8Array.of(0xc3)], ['.clam', payload]])
    const engine = await hashOnlyEngine(inner, 'Test.Carried')
    const verdict = await scanBytes(engine, file, 'carrier.exe')
    assert.equal(verdict.status, 'infected', JSON.stringify(verdict.findings))
    assert.deepEqual(verdict.findings[0]!.path, ['carrier.exe', `embedded-pe@${0x600 + payload.indexOf(inner)}.exe`])
  })
})
