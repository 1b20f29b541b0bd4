/// Where a protocol server listens, from its config section and the cluster instance ports it was
/// given (node.ts hands the clamd server the instance ports equal to clamd.port, the milter server
/// those equal to milter.port): the configured port first, then the instance ports; port 0 means no
/// TCP listener of its own, so the first instance port becomes the main one; an empty socket path
/// means no unix socket. Nothing at all to listen on: undefined (the server is not built).
/// Shared by src/clamd/server.ts and src/milter/server.ts, which built this the same way each.

export interface ListenerPlacement {
  /// The main TCP port (undefined: no TCP listener, only the unix socket).
  readonly port: number | undefined
  readonly extraPorts: readonly number[]
  readonly socket: string | undefined
}

export function listenerPlacement (port: number, socket: string, instancePorts: readonly number[]): ListenerPlacement | undefined {
  if (port === 0 && socket === '' && instancePorts.length === 0) return undefined
  const [main, ...extraPorts] = port === 0 ? instancePorts : [port, ...instancePorts]
  return { port: main, extraPorts, socket: socket === '' ? undefined : socket }
}
