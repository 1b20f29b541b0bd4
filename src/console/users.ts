/// The console's local users and API tokens, in `<console.stateDir>/users.json` (mode 0600):
/// passwords as scrypt hashes (node:crypto, N=2^15, r=8, p=1, a random 16-byte salt each), tokens
/// as the SHA-256 of their secret (a token is 32 random bytes: nothing to slow down a guess of).
/// `scanwall user add` and `scanwall token add` write it; the node reads it at each login or token
/// check, so a user added while the node runs can log in at once. Written to a temporary name and
/// renamed: a reader never sees half a file.
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export type Role = 'admin' | 'viewer'
export const roles: readonly Role[] = ['admin', 'viewer']

export interface UserRecord { readonly role: Role, readonly scrypt: string, readonly created: string }
export interface TokenRecord { readonly name: string, readonly role: Role, readonly sha256: string, readonly created: string }
export interface UsersFile { readonly users: Readonly<Record<string, UserRecord>>, readonly tokens: Readonly<Record<string, TokenRecord>> }

/// Who made a request: a logged-in user or a token (its name), and what it may do.
export interface Principal { readonly name: string, readonly role: Role, readonly via: 'session' | 'token' | 'address' }

const scryptParams = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } satisfies ScryptOptions
const namePattern = /^[A-Za-z0-9_.@-]{1,64}$/
const tokenPattern = /^swt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/

export function checkName (name: string): string {
  if (!namePattern.test(name)) throw new Error(`'${name}' is not a valid name (1-64 of A-Z a-z 0-9 _ . @ -)`)
  return name
}

export function checkRole (role: string): Role {
  if (!(roles as readonly string[]).includes(role)) throw new Error(`role must be ${roles.join(' or ')}, not '${role}'`)
  return role as Role
}

async function derive (password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return await new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, 32, { N, r, p, maxmem: scryptParams.maxmem }, (err, key) => { if (err === null) resolve(key); else reject(err) })
  })
}

/// `scrypt$N$r$p$salt$hash` (base64url): the parameters travel with the hash, so they can be raised later.
export async function hashPassword (password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, scryptParams.N, scryptParams.r, scryptParams.p)
  return ['scrypt', scryptParams.N, scryptParams.r, scryptParams.p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

export async function verifyPassword (password: string, stored: string): Promise<boolean> {
  const [tag, n, r, p, salt, hash] = stored.split('$')
  if (tag !== 'scrypt' || salt === undefined || hash === undefined) return false
  const expected = Buffer.from(hash, 'base64url')
  const got = await derive(password, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p))
  return got.length === expected.length && timingSafeEqual(got, expected)
}

/// A hash of nothing in particular, verified against when the user does not exist, so a login for
/// an unknown name takes as long as one for a known name.
let decoy: Promise<string> | undefined

export class UserDb {
  readonly file: string
  constructor (stateDir: string) { this.file = join(stateDir, 'users.json') }

  async read (): Promise<UsersFile> {
    try {
      const parsed = JSON.parse(await readFile(this.file, 'utf8')) as Partial<UsersFile>
      return { users: parsed.users ?? {}, tokens: parsed.tokens ?? {} }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { users: {}, tokens: {} }
      throw err
    }
  }

  async #write (data: UsersFile): Promise<void> {
    const dir = join(this.file, '..')
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const tmp = `${this.file}.${randomBytes(4).toString('hex')}.tmp`
    await writeFile(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 })
    await rename(tmp, this.file)
  }

  /// Adds or replaces a user (a new password, a new role).
  async setUser (name: string, role: Role, password: string): Promise<void> {
    checkName(name)
    if (password.length < 8) throw new Error('the password must have at least 8 characters')
    const data = await this.read()
    await this.#write({ ...data, users: { ...data.users, [name]: { role, scrypt: await hashPassword(password), created: new Date().toISOString() } } })
  }

  async removeUser (name: string): Promise<boolean> {
    const data = await this.read()
    if (!Object.hasOwn(data.users, name)) return false
    const users = { ...data.users }
    // The name was checked to be in the object: a computed delete of an own key.

    delete users[name]
    await this.#write({ ...data, users })
    return true
  }

  /// A new token; the secret is returned once and never stored.
  async addToken (name: string, role: Role): Promise<string> {
    checkName(name)
    const id = randomBytes(8).toString('hex')
    const secret = randomBytes(32).toString('base64url')
    const data = await this.read()
    await this.#write({ ...data, tokens: { ...data.tokens, [id]: { name, role, sha256: sha256(secret), created: new Date().toISOString() } } })
    return `swt_${id}_${secret}`
  }

  async login (name: string, password: string): Promise<Principal | undefined> {
    const users = (await this.read()).users
    const user = Object.hasOwn(users, name) ? users[name] : undefined
    if (user === undefined) {
      decoy ??= hashPassword(randomBytes(16).toString('hex'))
      await verifyPassword(password, await decoy)
      return undefined
    }
    return await verifyPassword(password, user.scrypt) ? { name, role: user.role, via: 'session' } : undefined
  }

  async token (presented: string): Promise<Principal | undefined> {
    const m = tokenPattern.exec(presented)
    if (m === null) return undefined
    const tokens = (await this.read()).tokens
    const record = Object.hasOwn(tokens, m[1] ?? '') ? tokens[m[1] ?? ''] : undefined
    if (record === undefined) return undefined
    const a = Buffer.from(sha256(m[2] ?? ''), 'hex')
    const b = Buffer.from(record.sha256, 'hex')
    return a.length === b.length && timingSafeEqual(a, b) ? { name: `token:${record.name}`, role: record.role, via: 'token' } : undefined
  }
}

function sha256 (text: string): string { return createHash('sha256').update(text).digest('hex') }
