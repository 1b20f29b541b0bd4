/// `scanwall sigs update|info|rollback`: signature updates by hand, on the files of the same --config
/// the node runs with (updates.*, signatures.cacheDir). `update` fetches, verifies and test-loads a
/// new DB, then names it in state.json; `rollback` names the previous DB again. A running node
/// watches state.json and swaps to what it names (in the background, zero failed transactions).
import { loadConfig } from '../../config/load.js'
import { loadDb } from '../engine/signatures/cache.js'
import { signatureCount } from '../engine/matcher/build.js'
import { errorMessage } from '../errors.js'
import { checkForUpdates, commitStaged, discardStaged, versionLabel } from '../updates/updater.js'
import { labelOfDir, mirrorSource } from '../updates/service.js'
import { updateTrustFrom } from '../updates/keys.js'
import { UpdateStore } from '../updates/store.js'
import { runGroup, withOptions, type CommandSpec, type OptionSpec } from './args.js'
import { join } from 'node:path'

const config = { type: 'string', short: 'c', value: 'FILE', help: 'the configuration file the node runs with (updates.*, signatures.*)' } satisfies OptionSpec
const json = { type: 'boolean', help: 'print the result as one JSON line' } satisfies OptionSpec

const updateSpec = { name: 'sigs update', about: 'Fetch and verify new signatures from updates.mirror now; a running node swaps to them (exit 1 when refused).', options: { config, json } } satisfies CommandSpec
const infoSpec = { name: 'sigs info', about: 'The signature DB in use and the one before it, versions, last check, cool-down and last error.', options: { config, json } } satisfies CommandSpec
const rollbackSpec = { name: 'sigs rollback', about: 'Go back to the previous signature DB (until the next update check brings a newer one).', options: { config, json } } satisfies CommandSpec

function print (asJson: boolean, value: Record<string, unknown>, text: string): void {
  process.stdout.write(asJson ? `${JSON.stringify(value)}\n` : `${text}\n`)
}

const actions = {
  update: {
    about: updateSpec.about,
    run: async (args: string[]) => await withOptions(updateSpec, args, async ({ values }) => {
      const c = loadConfig({ file: values.config })
      if (c.updates.mirror === '') throw new Error('updates.mirror is not set: there is nothing to update from')
      const store = new UpdateStore(c.signatures.cacheDir)
      const source = mirrorSource(c.updates)
      const notes: string[] = []
      return await store.locked(async () => {
        const result = await checkForUpdates(source, { databases: c.updates.databases, trust: updateTrustFrom(c.updates), localDir: c.signatures.dir, store, layout: c.updates.layout }, m => { notes.push(m) })
        for (const n of notes) process.stderr.write(`scanwall sigs update: ${n}\n`)
        if (result.kind === 'cooldown' || result.kind === 'refused') {
          print(values.json === true, { result: result.kind, reason: result.reason }, `${result.kind === 'cooldown' ? 'paused' : 'refused'}: ${result.reason}`)
          return 1
        }
        if (result.kind === 'current') {
          print(values.json === true, { result: 'current', versions: versionLabel(result.versions) }, `current: ${versionLabel(result.versions)}`)
          return 0
        }
        try {
          // Test-load before naming it: a DB that does not compile never reaches a node. The compiled
          // form lands in the node's cache, so its swap skips compilation.
          const { db } = await loadDb(result.dir, { lenient: c.signatures.lenient, cacheDir: join(c.signatures.cacheDir, 'compiled'), cacheBudgetBytes: c.signatures.compiledCacheBytes })
          await commitStaged(store, result)
          const label = await labelOfDir(result.dir) ?? db.version
          print(values.json === true, { result: 'updated', version: label, signatures: signatureCount(db) }, `updated: ${label} (${signatureCount(db)} signatures)`)
          return 0
        } catch (err) {
          await discardStaged(store, result, errorMessage(err))
          print(values.json === true, { result: 'refused', reason: errorMessage(err) }, `refused: ${errorMessage(err)}`)
          return 1
        }
      })
    }),
  },
  info: {
    about: infoSpec.about,
    run: async (args: string[]) => await withOptions(infoSpec, args, async ({ values }) => {
      const c = loadConfig({ file: values.config })
      const store = new UpdateStore(c.signatures.cacheDir)
      const s = await store.read()
      const dir = s.current === undefined || c.updates.mirror === '' ? c.signatures.dir : store.dbDir(s.current)
      const version = await labelOfDir(dir) ?? '(no CVD/CLD containers)'
      const when = (ms: number | undefined): string => ms === undefined ? 'never' : new Date(ms).toISOString()
      const value = { dir, version, mirror: c.updates.mirror, previous: s.previous === undefined ? undefined : versionLabel(s.previousDbs ?? {}), lastCheck: s.lastCheck, lastUpdate: s.lastUpdate, coolDownUntil: s.coolDownUntil, lastError: s.lastError }
      print(values.json === true, value, [
        `signatures: ${version}`, `directory:  ${dir}`, `mirror:     ${c.updates.mirror === '' ? '(none; the directory is watched)' : c.updates.mirror}`,
        `previous:   ${value.previous ?? '(none)'}`, `last check: ${when(s.lastCheck)}`, `last update: ${when(s.lastUpdate)}`,
        ...(s.coolDownUntil !== undefined && s.coolDownUntil > Date.now() ? [`cool-down until ${when(s.coolDownUntil)}`] : []),
        ...(s.lastError === undefined ? [] : [`last error: ${s.lastError}`]),
      ].join('\n'))
      return 0
    }),
  },
  rollback: {
    about: rollbackSpec.about,
    run: async (args: string[]) => await withOptions(rollbackSpec, args, async ({ values }) => {
      const c = loadConfig({ file: values.config })
      const store = new UpdateStore(c.signatures.cacheDir)
      return await store.locked(async () => {
        const s = await store.read()
        if (s.previous === undefined || s.current === undefined) throw new Error('no previous signature DB to roll back to')
        const next = await store.update(x => ({ ...x, current: x.previous, previous: x.current, dbs: x.previousDbs ?? {}, previousDbs: x.dbs }))
        print(values.json === true, { result: 'rolled back', version: versionLabel(next.dbs), previous: versionLabel(next.previousDbs ?? {}) }, `rolled back to ${versionLabel(next.dbs)} (was ${versionLabel(next.previousDbs ?? {})})`)
        return 0
      })
    }),
  },
}

export async function runSigs (args: string[]): Promise<number> {
  return await runGroup('sigs', actions, args)
}
