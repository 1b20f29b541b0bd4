/// Test helpers for the engine: an Engine built from signature files written at test time (so a test
/// can load only a hash signature, and a detection then proves the exact bytes were extracted), and
/// one-call scans of bytes or files.
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync, copyFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Engine } from '../../src/engine/engine.js'
import { loadDb } from '../../src/engine/signatures/cache.js'
import type { CompiledDb } from '../../src/engine/matcher/db.js'
import { FileSource, MemorySource } from '../../src/engine/source.js'
import { defaultLimits, type ScanLimits } from '../../src/engine/budget.js'
import type { Verdict } from '../../src/engine/verdict.js'

/// An engine whose only signature is the MD5 of `sample` (name `name`): it detects the sample only
/// when a format handler extracted it byte-exactly.
export async function hashOnlyEngine (sample: Uint8Array, name: string): Promise<Engine> {
  return await engineWith(sample, name, {})
}

/// hashOnlyEngine's MD5 signature plus other signature files (name → text).
export async function engineWith (sample: Uint8Array, name: string, files: Record<string, string>): Promise<Engine> {
  const dir = mkdtempSync(join(tmpdir(), 'scanwall-sigs-'))
  try {
    writeFileSync(join(dir, 'test.hdb'), `${createHash('md5').update(sample).digest('hex')}:${sample.length}:${name}\n`)
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text)
    return new Engine(await compiledFrom(dir))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/// An engine from some files of a signature directory (e.g. only test.hdb of the peers' test DB).
export async function engineFrom (dir: string, files?: readonly string[]): Promise<Engine> {
  if (files === undefined) return new Engine(await compiledFrom(dir))
  const tmp = mkdtempSync(join(tmpdir(), 'scanwall-sigs-'))
  try {
    for (const f of files) copyFileSync(join(dir, f), join(tmp, f))
    return new Engine(await compiledFrom(tmp))
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

export async function scanBytes (engine: Engine, bytes: Uint8Array, name = 'object', limits: Partial<ScanLimits> = {}, signal = new AbortController().signal): Promise<Verdict> {
  return await engine.scan(new MemorySource(bytes), name, { ...defaultLimits, ...limits }, signal)
}

export async function scanFile (engine: Engine, path: string, name: string, limits: Partial<ScanLimits> = {}): Promise<Verdict> {
  return await engine.scan(new FileSource(path, statSync(path).size), name, { ...defaultLimits, ...limits }, new AbortController().signal)
}

/// The compiled DB of a signature directory, without touching its compiled-DB cache.
async function compiledFrom (dir: string): Promise<CompiledDb> {
  return (await loadDb(dir, { lenient: false, useCache: false })).db
}
