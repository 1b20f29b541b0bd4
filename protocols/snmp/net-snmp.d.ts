// Types for the part of net-snmp (a CommonJS package that ships no typings) that protocols/snmp
// uses. Written from its README and index.js 3.29; only what we call is declared.
declare module 'net-snmp' {
  import type { EventEmitter } from 'node:events'
  import type * as dgram from 'node:dgram'

  namespace snmp {
    type ObjectTypeCode = number
    interface Varbind { oid: string, type: ObjectTypeCode, value: unknown }

    interface User {
      name: string
      level: number
      authProtocol?: number
      authKey?: string
      privProtocol?: number
      privKey?: string
    }

    interface TableColumn {
      number: number
      name: string
      type: ObjectTypeCode
      maxAccess: number
      constraints?: { enumeration?: Record<string, string> }
    }

    interface ProviderDefinition {
      name: string
      type: number
      oid: string
      maxAccess: number
      scalarType?: ObjectTypeCode
      tableColumns?: TableColumn[]
      tableIndex?: Array<{ columnName: string }>
      constraints?: { enumeration?: Record<string, string> }
    }

    interface Mib {
      registerProvider (definition: ProviderDefinition): void
      setScalarValue (name: string, value: unknown): void
      addTableRow (name: string, row: unknown[]): void
      deleteTableRow (name: string, rowIndex: unknown[]): boolean
    }

    interface Authorizer {
      addUser (user: User): void
      addCommunity (community: string): void
    }

    /// The request dispatchers both Agent and Subagent call on `this` for each read PDU.
    interface ReadDispatch {
      getRequest (...args: unknown[]): void
      getNextRequest (...args: unknown[]): void
      getBulkRequest (...args: unknown[]): void
    }

    interface Agent extends ReadDispatch {
      setRequest (...args: unknown[]): void
      getMib (): Mib
      getAuthorizer (): Authorizer
      close (callback?: () => void): void
    }

    interface AgentOptions {
      port: number
      address: string
      transport?: 'udp4' | 'udp6'
      engineID: string
      disableAuthorization?: boolean
      accessControlModelType?: number
      dgramModule?: { createSocket: (type: dgram.SocketType) => dgram.Socket }
    }

    interface Subagent extends ReadDispatch, EventEmitter {
      getMib (): Mib
      open (callback: (error: Error | null) => void): void
      close (callback: (error: Error | null) => void): void
      registerProvider (definition: ProviderDefinition, callback: (error: Error | null) => void): void
      notify (oid: string, varbinds: Varbind[], callback: (error: Error | null) => void): void
    }

    interface SubagentOptions {
      master: string
      masterPort: number
      description?: string
    }

    interface Session extends EventEmitter {
      get (oids: string[], callback: (error: Error | null, varbinds: Varbind[]) => void): void
      trap (oid: string, varbinds: Varbind[], options: { upTime?: number }, callback: (error: Error | null) => void): void
      close (): void
    }

    interface SessionOptions {
      port?: number
      trapPort?: number
      version?: number
      engineID?: string
      transport?: 'udp4' | 'udp6'
    }
  }

  const snmp: {
    createAgent (options: snmp.AgentOptions, callback: (error: Error | null, data: unknown) => void, mib?: snmp.Mib): snmp.Agent
    createSubagent (options: snmp.SubagentOptions): snmp.Subagent
    createSession (target: string, community: string, options: snmp.SessionOptions): snmp.Session
    createV3Session (target: string, user: snmp.User, options: snmp.SessionOptions): snmp.Session
    Version2c: number
    Version3: number
    ObjectType: Record<'Integer' | 'OctetString' | 'OID' | 'Counter64' | 'Gauge32' | 'Unsigned32' | 'TimeTicks', number>
    MibProviderType: Record<'Scalar' | 'Table', number>
    MaxAccess: Record<'not-accessible' | 'accessible-for-notify' | 'read-only', number>
    SecurityLevel: Record<'noAuthNoPriv' | 'authNoPriv' | 'authPriv', number>
    AuthProtocols: Record<'sha' | 'sha256' | 'sha512', number>
    PrivProtocols: Record<'aes' | 'aes256b' | 'aes256r', number>
    AccessControlModelType: Record<'None' | 'Simple', number>
    AgentXPdu: {
      writeOctetString: (buffer: { writeUInt32BE (n: number): unknown, writeUInt8 (n: number): unknown, writeBuffer (b: Buffer): unknown }, value: unknown) => void
    }
  }
  export = snmp
}
