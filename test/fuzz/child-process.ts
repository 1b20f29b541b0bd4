/// The harness's handle on one fuzz child: fork it with a heap cap, initialise it for a target, and
/// run a case with a deadline. A case ends as the child's reply, a hang (no reply by the deadline:
/// the child is killed) or an exit (the child died: a crash, an abort, or out of memory).
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { CaseReply, FromChild, InitMessage, ToChild } from './protocol.js'

export type CaseEnd =
  | { readonly kind: 'reply', readonly reply: CaseReply }
  | { readonly kind: 'hang' }
  | { readonly kind: 'exit', readonly detail: string }

const childFile = fileURLToPath(new URL('./child.js', import.meta.url))

export class FuzzChild {
  readonly #child: ChildProcess
  #waiter: ((end: CaseEnd | { kind: 'ready' }) => void) | undefined
  #stderr = ''
  #exited: string | undefined

  constructor (heapMb: number) {
    this.#child = fork(childFile, [], {
      execArgv: ['--enable-source-maps', `--max-old-space-size=${heapMb}`],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    })
    this.#child.stderr?.on('data', (d: Buffer) => { this.#stderr = (this.#stderr + d.toString()).slice(-2000) })
    this.#child.on('message', (m: FromChild) => { this.#waiter?.(m.type === 'ready' ? { kind: 'ready' } : { kind: 'reply', reply: m }) })
    this.#child.on('exit', (code, signal) => {
      this.#exited = `child exited (code ${code ?? '-'}, signal ${signal ?? '-'}): ${this.#stderr.trim().split('\n').slice(-6).join(' | ')}`
      this.#waiter?.({ kind: 'exit', detail: this.#exited })
    })
  }

  async #await (message: ToChild, deadlineMs: number): Promise<CaseEnd | { kind: 'ready' }> {
    if (this.#exited !== undefined) return { kind: 'exit', detail: this.#exited }
    return await new Promise(resolve => {
      const timer = setTimeout(() => { finish({ kind: 'hang' }) }, deadlineMs)
      const finish = (end: CaseEnd | { kind: 'ready' }): void => {
        clearTimeout(timer)
        this.#waiter = undefined
        resolve(end)
      }
      this.#waiter = finish
      this.#child.send(message)
    })
  }

  /// Loads the target's seeds and runner in the child; throws when the child cannot start.
  async init (init: Omit<InitMessage, 'type'>): Promise<void> {
    const { target } = init
    const end = await this.#await({ type: 'init', ...init }, 120_000)
    if (end.kind !== 'ready') throw new Error(`fuzz child for ${target} did not start: ${end.kind === 'exit' ? end.detail : 'no answer'}`)
  }

  async run (seed: number, caseNo: number, deadlineMs: number): Promise<CaseEnd> {
    const end = await this.#await({ type: 'case', seed, caseNo }, deadlineMs)
    if (end.kind === 'ready') return { kind: 'exit', detail: 'child answered a case with ready' }
    // Wait until it is gone: the next case must not go to a child that is still dying.
    if (end.kind === 'hang') await this.close()
    return end
  }

  get alive (): boolean { return this.#exited === undefined }

  /// Ends the child and waits until it is gone.
  async close (): Promise<void> {
    if (this.#exited !== undefined) return
    const gone = new Promise<void>(resolve => { this.#child.once('exit', () => { resolve() }) })
    this.#child.kill('SIGKILL')
    await gone
  }
}
