/// The updater's files in Scanwall's own cache directory (`<signatures.cacheDir>/updates`), never in
/// a signature directory someone else maintains:
///   state.json   which DB directory runs (current), the one before it (previous, for rollback),
///                each database's version and Last-Modified, the mirror's cool-down, the last error;
///   db-<n>/      complete DB directories (containers + the local files of signatures.dir);
///   mirror/      the verified upstream files, served to cluster peers;
///   lock         one updater at a time (the node's schedule or `scanwall sigs update`).
/// state.json is replaced by rename, so a reader never sees half of it.
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { errorMessage } from '../errors.js'

export interface DbVersionState { readonly version: number, readonly lastModified?: string | undefined }

export interface UpdateState {
  readonly current?: string | undefined
  readonly previous?: string | undefined
  readonly dbs: Readonly<Record<string, DbVersionState>>
  /// The versions of `previous`, for rollback.
  readonly previousDbs?: Readonly<Record<string, DbVersionState>>
  readonly coolDownUntil?: number | undefined
  readonly lastCheck?: number | undefined
  readonly lastUpdate?: number | undefined
  readonly lastError?: string | undefined
  /// The SHA-256 of the installed SHA256SUMS (plain-directory mirrors).
  readonly manifest?: string | undefined
}

const emptyState: UpdateState = { dbs: {} }

export class UpdateStore {
  readonly root: string
  constructor (cacheDir: string) { this.root = join(cacheDir, 'updates') }

  get stateFile (): string { return join(this.root, 'state.json') }
  get mirrorDir (): string { return join(this.root, 'mirror') }
  dbDir (name: string): string { return join(this.root, name) }

  async read (): Promise<UpdateState> {
    try {
      const parsed = JSON.parse(await readFile(this.stateFile, 'utf8')) as UpdateState
      return typeof parsed === 'object' && parsed !== null && typeof parsed.dbs === 'object' ? parsed : emptyState
    } catch {
      return emptyState
    }
  }

  async write (state: UpdateState): Promise<void> {
    await mkdir(this.root, { recursive: true })
    const tmp = `${this.stateFile}.${process.pid}.tmp`
    await writeFile(tmp, JSON.stringify(state, null, 1))
    await rename(tmp, this.stateFile)
  }

  async update (change: (s: UpdateState) => UpdateState): Promise<UpdateState> {
    const next = change(await this.read())
    await this.write(next)
    return next
  }

  /// A new, empty DB directory to stage into.
  async stage (): Promise<string> {
    await mkdir(this.root, { recursive: true })
    const names = (await readdir(this.root)).filter(n => /^db-\d+$/.test(n)).map(n => Number(n.slice(3)))
    const name = `db-${Math.max(0, ...names) + 1}`
    await mkdir(join(this.root, name))
    return name
  }

  /// Removes DB directories that are neither current nor previous.
  async prune (state: UpdateState): Promise<void> {
    for (const n of await readdir(this.root).catch(() => [] as string[])) {
      if (/^db-\d+$/.test(n) && n !== state.current && n !== state.previous) await rm(join(this.root, n), { recursive: true, force: true })
    }
  }

  /// Keeps verified upstream files for peers; old cdiffs beyond `keepCdiffs` per database go.
  async keepForPeers (files: ReadonlyArray<{ name: string, data: Uint8Array }>, keepCdiffs = 30): Promise<void> {
    await mkdir(this.mirrorDir, { recursive: true })
    for (const f of files) {
      const tmp = join(this.mirrorDir, `.${f.name}.tmp`)
      await writeFile(tmp, f.data)
      await rename(tmp, join(this.mirrorDir, f.name))
    }
    const cdiffs = new Map<string, number[]>()
    for (const n of await readdir(this.mirrorDir)) {
      const m = /^(.+)-(\d+)\.cdiff$/.exec(n)
      if (m !== null) cdiffs.set(m[1] ?? '', [...cdiffs.get(m[1] ?? '') ?? [], Number(m[2])])
    }
    for (const [db, versions] of cdiffs) {
      for (const v of versions.sort((a, b) => b - a).slice(keepCdiffs)) {
        for (const file of [`${db}-${v}.cdiff`, `${db}-${v}.cdiff.sign`]) await rm(join(this.mirrorDir, file), { force: true })
      }
    }
  }

  /// Runs fn holding the lock file; a lock whose process is gone is taken over.
  async locked<T> (fn: () => Promise<T>): Promise<T> {
    await mkdir(this.root, { recursive: true })
    const file = join(this.root, 'lock')
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(file, 'wx')
        await handle.write(String(process.pid))
        await handle.close()
        break
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw new Error(`${file}: another update is running (${errorMessage(err)})`)
        const pid = Number(await readFile(file, 'utf8').catch(() => ''))
        if (Number.isInteger(pid) && pid > 0 && alive(pid)) throw new Error(`another update is running (process ${pid})`)
        await rm(file, { force: true })
      }
    }
    try {
      return await fn()
    } finally {
      await rm(file, { force: true })
    }
  }
}

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM' }
}
