/// The two keystreams of compiled AutoIt scripts (autoit.ts). EA05: the standard MT19937 generator
/// (Matsumoto and Nishimura's reference initialisation and tempering), each key byte the low byte of
/// its 32-bit output shifted right once. EA06: a 17-word lagged generator; each step adds two words
/// rotated left by 9 and 13, and the key byte is the top byte of every second step (AutoIt turns the
/// word into a double in [0, 1) and multiplies by 256, which is exactly that).

export function mersenneKeystream (length: number, seed: number): Uint8Array {
  const state = new Uint32Array(624)
  state[0] = seed >>> 0
  for (let i = 1; i < 624; i++) {
    const previous = state[i - 1]! ^ (state[i - 1]! >>> 30)
    state[i] = (Math.imul(0x6c078965, previous) + i) >>> 0
  }
  const out = new Uint8Array(length)
  let index = 624
  for (let n = 0; n < length; n++) {
    if (index === 624) {
      for (let i = 0; i < 624; i++) {
        const y = (state[i]! & 0x80000000) | (state[(i + 1) % 624]! & 0x7fffffff)
        state[i] = state[(i + 397) % 624]! ^ (y >>> 1) ^ ((y & 1) !== 0 ? 0x9908b0df : 0)
      }
      index = 0
    }
    let y = state[index++]!
    y ^= y >>> 11
    y ^= (y << 7) & 0x9d2c5680
    y ^= (y << 15) & 0xefc60000
    y ^= y >>> 18
    out[n] = (y >>> 1) & 0xff
  }
  return out
}

export function lameKeystream (length: number, seed: number): Uint8Array {
  const words = new Uint32Array(17)
  let s = seed >>> 0
  for (let i = 0; i < 17; i++) {
    s = (1 - Math.imul(s, 0x53a9b4fb)) >>> 0
    words[i] = s
  }
  let first = 0
  let second = 10
  const rotl = (x: number, n: number): number => ((x << n) | (x >>> (32 - n))) >>> 0
  const step = (): number => {
    const value = (rotl(words[first]!, 9) + rotl(words[second]!, 13)) >>> 0
    words[first] = value
    first = first === 0 ? 16 : first - 1
    second = second === 0 ? 16 : second - 1
    return value
  }
  for (let i = 0; i < 9; i++) step()
  const out = new Uint8Array(length)
  for (let n = 0; n < length; n++) {
    step()
    out[n] = step() >>> 24
  }
  return out
}
