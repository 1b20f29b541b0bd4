/// Marks a worker's result so Piscina transfers the listed buffers instead of cloning them (its
/// transferable protocol: the value plus a transfer list, marked movable). Tasks going into the pool
/// use run()'s transferList option instead.
import { Piscina } from 'piscina'

type Movable = Parameters<typeof Piscina.move>[0]

export function moveWithTransfer<T> (value: T, transfer: readonly ArrayBuffer[]): T {
  const wrapper = {
    get [Piscina.transferableSymbol] () { return transfer },
    get [Piscina.valueSymbol] () { return value },
  }
  // Piscina unwraps this on the way out; the receiver sees `value` itself, hence the return type.
  return Piscina.move(wrapper as unknown as Movable) as unknown as T
}
