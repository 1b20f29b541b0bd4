/// One 7-Zip backend over many calls, and across rebuilds of its wasm instance. The fuzz harness
/// found members lost (and decoders hanging) every ~180 scans: each callMain left its arguments and,
/// on an exit from inside 7-Zip, its frames on the C stack, until the stack ran into 7-Zip's data.
/// Here every scan must give EICAR back byte for byte, the stack pointer must not move between
/// calls, and a rebuild (forced by a lowered memory threshold) must not cost the scan after it.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SevenZipBackend } from '../../../src/engine/formats/sevenzip.js'
import { ScanBudget, defaultLimits } from '../../../src/engine/budget.js'
import { MemorySource } from '../../../src/engine/source.js'
import { eicar } from '../../helpers/eicar.js'
import { builders } from '../../helpers/containers.js'

const MiB = 1024 * 1024

/// The members the backend extracts, by name (a whole-member read of each).
async function membersOf (backend: SevenZipBackend, bytes: Uint8Array): Promise<Map<string, Buffer>> {
  // Zeros compress past any sane ratio: this suite is about the instance, not the bomb limit.
  const budget = new ScanBudget({ ...defaultLimits, maxRatio: Number.POSITIVE_INFINITY }, new AbortController().signal)
  const members = new Map<string, Buffer>()
  for await (const layer of backend.extract(new MemorySource(bytes), budget, 'Test')) {
    members.set(layer.name, Buffer.from(await layer.source.read(0, layer.source.size)))
    layer.release?.()
  }
  return members
}

function archiveOf (format: string): Buffer {
  const builder = builders.find(b => b.format === format)
  if (builder === undefined) throw new Error(`no builder for ${format}`)
  return builder.build({ name: 'eicar.com', bytes: eicar })
}

/// A 7z whose decoder needs a 48 MiB dictionary (LZMA2 over 48 MiB of zeros, -md64m reduced to the
/// data): decoding it grows the instance's memory well past its initial 16 MiB.
function bigDictionary7z (): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-7zdict-'))
  try {
    writeFileSync(join(dir, 'eicar.com'), eicar)
    writeFileSync(join(dir, 'zeros.bin'), Buffer.alloc(48 * MiB))
    execFileSync('7z', ['a', '-bd', '-mx1', '-m0=LZMA2:d=64m', 'o.7z', 'eicar.com', 'zeros.bin'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
    return readFileSync(join(dir, 'o.7z'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('7-Zip backend: one instance over many calls, and its rebuilds', function () {
  this.timeout(120_000)
  let archives: Array<{ format: string, bytes: Buffer }>

  before(() => {
    const whole = ['iso9660', '7z', 'lzh', 'cab', 'arj'].map(format => ({ format, bytes: archiveOf(format) }))
    // A cut archive makes 7-Zip report an error and exit from inside: that path left the most stack.
    const cut7z = whole.find(a => a.format === '7z')?.bytes ?? Buffer.alloc(0)
    archives = [...whole, { format: '7z (cut)', bytes: cut7z.subarray(0, cut7z.length - 8) }]
  })

  it('keeps EICAR on every one of 600 scans, with the C stack pointer back in place after each', async () => {
    const backend = new SevenZipBackend()
    let stack: number | undefined
    for (let scan = 0; scan < 600; scan++) {
      const archive = archives[scan % archives.length] as { format: string, bytes: Buffer }
      const members = await membersOf(backend, archive.bytes)
      if (archive.format !== '7z (cut)') assert.deepEqual(members.get('eicar.com'), eicar, `scan ${scan} (${archive.format}): members ${[...members.keys()].join(', ')}`)
      stack ??= backend.stackPointer
      assert.equal(backend.stackPointer, stack, `scan ${scan} (${archive.format}): stack pointer moved`)
    }
    // No trap rebuilt the instance on the way.
    assert.equal(backend.instancesBuilt, 1)
  })

  it('rebuilds the instance once its memory passes the threshold, and the scan after it keeps EICAR', async () => {
    const iso = archiveOf('iso9660')
    // Threshold: 1 MiB above the instance as first built, so only the big dictionary crosses it.
    const probe = new SevenZipBackend()
    await membersOf(probe, iso)
    const threshold = probe.memoryBytes + MiB
    const backend = new SevenZipBackend({ recycleAboveBytes: threshold })
    const big = bigDictionary7z()
    for (let round = 1; round <= 3; round++) {
      assert.deepEqual((await membersOf(backend, iso)).get('eicar.com'), eicar, `round ${round}: before the big archive`)
      const built = backend.instancesBuilt
      const members = await membersOf(backend, big)
      assert.deepEqual(members.get('eicar.com'), eicar, `round ${round}: big archive`)
      assert.equal(members.get('zeros.bin')?.length, 48 * MiB)
      assert.ok(backend.memoryBytes > threshold, `round ${round}: memory ${backend.memoryBytes} did not pass ${threshold}`)
      // The first scan after the rebuild: a new instance, and EICAR still comes back.
      assert.deepEqual((await membersOf(backend, iso)).get('eicar.com'), eicar, `round ${round}: first scan after the rebuild`)
      assert.equal(backend.instancesBuilt, built + 1, `round ${round}: no rebuild`)
      assert.ok(backend.memoryBytes <= threshold)
    }
  })
})
