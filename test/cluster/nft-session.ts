/// An `nft -i` session inside a node's namespace, started before the test needs it and run at a
/// raised priority, so a rule goes into the kernel when the test takes its timestamp. Spawning
/// `ip netns exec … nft` at the moment of a cut took 300-800 ms at load 10-15 on the shared
/// machine, and that spawn time was counted in the failover window the partition test measures.
/// Each call sends its commands plus a listing of a marker table and waits for that listing (nft
/// answers in order); anything on stderr fails the call.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'

const marker = 'swack'

export class NftSession {
  readonly #child: ChildProcessWithoutNullStreams
  #out = ''
  #err = ''
  #wake: () => void = () => {}

  private constructor (child: ChildProcessWithoutNullStreams) {
    this.#child = child
    child.stdout.on('data', (d: Buffer) => { this.#out += d.toString(); this.#wake() })
    child.stderr.on('data', (d: Buffer) => { this.#err += d.toString(); this.#wake() })
    child.on('exit', () => this.#wake())
  }

  static async start (ns: string): Promise<NftSession> {
    const session = new NftSession(spawn('ip', ['netns', 'exec', ns, 'nice', '-n', '-15', 'nft', '-i'], { stdio: ['pipe', 'pipe', 'pipe'] }))
    await session.run(`add table inet ${marker}`)
    return session
  }

  /// Runs `commands` (one nft command line); resolves once nft has committed them.
  async run (commands: string): Promise<void> {
    this.#out = ''
    this.#err = ''
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nft did not answer within 10 s: ${this.#err}`)), 10_000)
      this.#wake = () => {
        if (this.#err.trim() !== '' || this.#child.exitCode !== null) reject(new Error(`nft: ${this.#err.trim() || `exited ${String(this.#child.exitCode)}`}`))
        else if (/\n}\n$/.test(this.#out)) resolve()
        else return
        clearTimeout(timer)
      }
    })
    this.#child.stdin.write(`${commands}\nlist table inet ${marker}\n`)
    await done
  }

  async close (): Promise<void> {
    if (this.#child.exitCode !== null) return
    const exited = new Promise<void>(resolve => this.#child.once('exit', () => resolve()))
    this.#child.stdin.end(`delete table inet ${marker}\n`)
    await exited
  }
}
