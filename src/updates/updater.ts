/// One update check: every configured database brought to the source's newest version (fetch-db.ts),
/// and when anything changed, a complete new DB directory staged in the store (the updated
/// containers, the unchanged ones of the running DB, the local files of signatures.dir). The caller
/// loads it (in the background) and then commits or discards it: a refused or broken update leaves
/// the running DB and state.json as they were. A mirror's cool-down (429/403) is recorded and obeyed.
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isSignatureFile } from '../engine/signatures/load.js'
import { parseCvdHeader } from '../engine/signatures/cvd.js'
import type { UpdateTrust } from './keys.js'
import { errorMessage } from '../errors.js'
import { updateDb, type DbUpdate, type LocalDb } from './fetch-db.js'
import { CoolDown, type UpdateSource } from './source.js'
import { fetchManifestSet } from './manifest.js'
import type { DbVersionState, UpdateState, UpdateStore } from './store.js'

export interface UpdaterOptions {
  readonly databases: readonly string[]
  readonly trust: UpdateTrust
  /// signatures.dir: its signature files (local rules, the bundled ones) go into every staged DB.
  readonly localDir: string
  readonly store: UpdateStore
  /// 'clamav': CVDs and cdiffs (a private mirror); 'manifest': plain DB files under a signed SHA256SUMS.
  readonly layout?: 'clamav' | 'manifest'
}

export type CheckResult =
  | { readonly kind: 'cooldown', readonly until: number, readonly reason: string }
  | { readonly kind: 'current', readonly versions: Readonly<Record<string, DbVersionState>> }
  | { readonly kind: 'staged', readonly name: string, readonly dir: string, readonly versions: Readonly<Record<string, DbVersionState>>, readonly updates: readonly DbUpdate[], readonly manifest?: string }
  | { readonly kind: 'refused', readonly reason: string }

/// "daily:27002 main:62": the versions as operators compare them across nodes (sorted by name, as
/// labelOfDir lists a directory's containers).
export function versionLabel (dbs: Readonly<Record<string, DbVersionState>>): string {
  return Object.entries(dbs).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([db, s]) => `${db}:${s.version}`).join(' ')
}

async function readLocal (dir: string | undefined, db: string, known: DbVersionState | undefined): Promise<LocalDb> {
  if (dir === undefined) return { version: 0 }
  for (const ext of ['.cld', '.cvd']) {
    const data = await readFile(join(dir, db + ext)).catch(() => undefined)
    if (data === undefined) continue
    const header = parseCvdHeader(data)
    if (typeof header !== 'string') return { version: header.version, container: data, lastModified: known?.lastModified }
  }
  return { version: 0 }
}

export async function checkForUpdates (source: UpdateSource, options: UpdaterOptions, log: (msg: string) => void): Promise<CheckResult> {
  const { store } = options
  const state = await store.read()
  const now = Date.now()
  if (state.coolDownUntil !== undefined && state.coolDownUntil > now) {
    return { kind: 'cooldown', until: state.coolDownUntil, reason: `the mirror asked for a pause until ${new Date(state.coolDownUntil).toISOString()}` }
  }
  if (options.layout === 'manifest') return await checkManifest(source, options, state, now)
  const currentDir = state.current === undefined ? undefined : store.dbDir(state.current)
  const updates: DbUpdate[] = []
  const versions: Record<string, DbVersionState> = {}
  try {
    for (const db of options.databases) {
      const local = await readLocal(currentDir, db, state.dbs[db])
      const outcome = await updateDb(db, source, local, options.trust, log)
      if (outcome.kind === 'updated') {
        updates.push(outcome.update)
        versions[db] = { version: outcome.update.version, lastModified: outcome.update.lastModified }
      } else {
        versions[db] = { version: local.version, lastModified: outcome.lastModified }
      }
    }
  } catch (err) {
    const reason = errorMessage(err)
    if (err instanceof CoolDown) {
      await store.update(s => ({ ...s, coolDownUntil: err.until, lastCheck: now, lastError: reason }))
      return { kind: 'cooldown', until: err.until, reason }
    }
    await store.update(s => ({ ...s, lastCheck: now, lastError: reason }))
    return { kind: 'refused', reason }
  }
  if (updates.length === 0) {
    await store.update(s => ({ ...s, dbs: { ...s.dbs, ...versions }, lastCheck: now, coolDownUntil: undefined }))
    return { kind: 'current', versions }
  }
  const { name, dir } = await stageWith(options, updates.map(u => u.container))
  const managed = new Set(options.databases.flatMap(db => [`${db}.cvd`, `${db}.cld`]))
  const updated = new Set(updates.map(u => u.db))
  if (currentDir !== undefined) {
    for (const f of await readdir(currentDir).catch(() => [] as string[])) {
      const db = f.replace(/\.c[lv]d$/, '')
      if (managed.has(f) && !updated.has(db)) await copyFile(join(currentDir, f), join(dir, f))
    }
  }
  await store.keepForPeers(updates.flatMap(u => u.fetched))
  return { kind: 'staged', name, dir, versions, updates }
}

/// A new DB directory holding `files` and the local files of signatures.dir they do not replace.
async function stageWith (options: UpdaterOptions, files: ReadonlyArray<{ name: string, data: Uint8Array }>): Promise<{ name: string, dir: string }> {
  const name = await options.store.stage()
  const dir = options.store.dbDir(name)
  const names = new Set(files.map(f => f.name))
  const managed = new Set(options.databases.flatMap(db => [`${db}.cvd`, `${db}.cld`]))
  for (const f of files) await writeFile(join(dir, f.name), f.data)
  for (const f of await readdir(options.localDir).catch(() => [] as string[])) {
    if (isSignatureFile(f) && !managed.has(f) && !names.has(f)) await copyFile(join(options.localDir, f), join(dir, f))
  }
  return { name, dir }
}

async function checkManifest (source: UpdateSource, options: UpdaterOptions, state: UpdateState, now: number): Promise<CheckResult> {
  const { store } = options
  let outcome
  try {
    outcome = await fetchManifestSet(source, options.trust.keys, state.current === undefined ? undefined : state.manifest)
  } catch (err) {
    const reason = errorMessage(err)
    const until = err instanceof CoolDown ? err.until : undefined
    await store.update(s => ({ ...s, lastCheck: now, lastError: reason, ...(until === undefined ? {} : { coolDownUntil: until }) }))
    return until === undefined ? { kind: 'refused', reason } : { kind: 'cooldown', until, reason }
  }
  if (outcome.kind === 'current') {
    await store.update(s => ({ ...s, lastCheck: now, coolDownUntil: undefined }))
    return { kind: 'current', versions: state.dbs }
  }
  const { name, dir } = await stageWith(options, outcome.files)
  await store.keepForPeers([...outcome.files, ...outcome.signed])
  return { kind: 'staged', name, dir, versions: {}, updates: [], manifest: outcome.digest }
}

/// The staged DB loaded: it becomes current, the running one previous.
export async function commitStaged (store: UpdateStore, staged: Extract<CheckResult, { kind: 'staged' }>): Promise<UpdateState> {
  const next = await store.update(s => ({
    ...s, previous: s.current, previousDbs: s.dbs, current: staged.name, ...(staged.manifest === undefined ? {} : { manifest: staged.manifest }), dbs: { ...s.dbs, ...staged.versions }, lastCheck: Date.now(), lastUpdate: Date.now(), lastError: undefined, coolDownUntil: undefined,
  }))
  await store.prune(next)
  return next
}

/// The staged DB did not load: it goes, the reason stays in state.json for `scanwall sigs info`.
export async function discardStaged (store: UpdateStore, staged: Extract<CheckResult, { kind: 'staged' }>, reason: string): Promise<void> {
  const next = await store.update(s => ({ ...s, lastCheck: Date.now(), lastError: reason }))
  await store.prune(next)
  void staged
}
