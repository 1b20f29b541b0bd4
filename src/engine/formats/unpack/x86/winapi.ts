/// The few Windows API functions an unpacking stub calls before it hands over to the program it
/// unpacked: loading libraries and resolving their functions (LoadLibraryA, GetProcAddress,
/// GetModuleHandleA), memory (VirtualAlloc, VirtualFree, VirtualProtect). Each imported or resolved
/// function is a "trap" address in a region no code lives in; a call there runs the function here.
/// A call to any other function means the stub is done (the unpacked program is running and doing
/// real work), so the emulator stops there and dumps memory. The traps live inside a fake kernel32
/// image (MZ and PE headers, an export table naming common functions), because stubs that avoid
/// imports find kernel32 themselves (from the return address the entry point was called with, or
/// the PEB) and walk its exports.
import { EAX, ESP, type Cpu } from './cpu.js'
import type { Memory } from './memory.js'

const kernelBase = 0x7c800000
export const trapBase = kernelBase + 0x10000
const trapSlots = 0x4000
const dllBase = 0x70000000
const trapSize = trapSlots * 4

/// What the fake kernel32 exports (the functions of Windows' kernel32 that programs and stubs commonly
/// use, by name only), sorted: walkers may binary-search the name table, and stubs that look names up
/// by hash find theirs only if it is here.
const kernelExports = [
  'AddAtomA', 'AddVectoredExceptionHandler', 'AllocConsole', 'AreFileApisANSI', 'Beep', 'CheckRemoteDebuggerPresent',
  'CloseHandle', 'CompareFileTime', 'CompareStringA', 'CompareStringW', 'ConnectNamedPipe', 'CopyFileA', 'CopyFileW',
  'CreateDirectoryA', 'CreateDirectoryW', 'CreateEventA', 'CreateEventW', 'CreateFileA', 'CreateFileMappingA',
  'CreateFileMappingW', 'CreateFileW', 'CreateMutexA', 'CreateMutexW', 'CreatePipe', 'CreateProcessA',
  'CreateProcessW', 'CreateRemoteThread', 'CreateSemaphoreA', 'CreateThread', 'CreateToolhelp32Snapshot',
  'DebugActiveProcess', 'DebugBreak', 'DecodePointer', 'DeleteCriticalSection', 'DeleteFileA', 'DeleteFileW',
  'DeviceIoControl', 'DisableThreadLibraryCalls', 'DuplicateHandle', 'EncodePointer', 'EnterCriticalSection',
  'EnumResourceNamesA', 'ExitProcess', 'ExitThread', 'ExpandEnvironmentStringsA', 'FatalAppExitA',
  'FileTimeToLocalFileTime', 'FileTimeToSystemTime', 'FindClose', 'FindFirstFileA', 'FindFirstFileW',
  'FindNextFileA', 'FindNextFileW', 'FindResourceA', 'FindResourceExA', 'FindResourceW', 'FlushFileBuffers',
  'FlushInstructionCache', 'FormatMessageA', 'FreeConsole', 'FreeEnvironmentStringsA', 'FreeEnvironmentStringsW',
  'FreeLibrary', 'FreeResource', 'GetACP', 'GetCPInfo', 'GetCommandLineA', 'GetCommandLineW', 'GetComputerNameA',
  'GetConsoleMode', 'GetCurrentDirectoryA', 'GetCurrentProcess', 'GetCurrentProcessId', 'GetCurrentThread',
  'GetCurrentThreadId', 'GetDiskFreeSpaceA', 'GetDriveTypeA', 'GetEnvironmentStrings', 'GetEnvironmentStringsW',
  'GetEnvironmentVariableA', 'GetExitCodeProcess', 'GetExitCodeThread', 'GetFileAttributesA', 'GetFileAttributesW',
  'GetFileSize', 'GetFileTime', 'GetFileType', 'GetFullPathNameA', 'GetLastError', 'GetLocalTime', 'GetLocaleInfoA',
  'GetLogicalDrives', 'GetModuleFileNameA', 'GetModuleFileNameW', 'GetModuleHandleA', 'GetModuleHandleExA',
  'GetModuleHandleW', 'GetOEMCP', 'GetPrivateProfileStringA', 'GetProcAddress', 'GetProcessHeap',
  'GetShortPathNameA', 'GetStartupInfoA', 'GetStartupInfoW', 'GetStdHandle', 'GetStringTypeA', 'GetStringTypeW',
  'GetSystemDirectoryA', 'GetSystemInfo', 'GetSystemTime', 'GetSystemTimeAsFileTime', 'GetTempFileNameA',
  'GetTempPathA', 'GetThreadContext', 'GetThreadLocale', 'GetTickCount', 'GetTimeZoneInformation',
  'GetUserDefaultLCID', 'GetVersion', 'GetVersionExA', 'GetVersionExW', 'GetVolumeInformationA',
  'GetWindowsDirectoryA', 'GlobalAlloc', 'GlobalFree', 'GlobalLock', 'GlobalMemoryStatus', 'GlobalUnlock',
  'HeapAlloc', 'HeapCreate', 'HeapDestroy', 'HeapFree', 'HeapReAlloc', 'HeapSize', 'InitializeCriticalSection',
  'InterlockedCompareExchange', 'InterlockedDecrement', 'InterlockedExchange', 'InterlockedIncrement',
  'IsBadCodePtr', 'IsBadReadPtr', 'IsBadWritePtr', 'IsDBCSLeadByte', 'IsDebuggerPresent',
  'IsProcessorFeaturePresent', 'LCMapStringA', 'LCMapStringW', 'LeaveCriticalSection', 'LoadLibraryA',
  'LoadLibraryExA', 'LoadLibraryExW', 'LoadLibraryW', 'LoadResource', 'LocalAlloc', 'LocalFree', 'LockResource',
  'MapViewOfFile', 'Module32First', 'Module32Next', 'MoveFileA', 'MulDiv', 'MultiByteToWideChar', 'OpenEventA',
  'OpenFile', 'OpenFileMappingA', 'OpenMutexA', 'OpenProcess', 'OpenThread', 'OutputDebugStringA',
  'OutputDebugStringW', 'PeekNamedPipe', 'Process32First', 'Process32Next', 'QueryPerformanceCounter',
  'QueryPerformanceFrequency', 'RaiseException', 'ReadFile', 'ReadProcessMemory', 'ReleaseMutex', 'RemoveDirectoryA',
  'ResetEvent', 'ResumeThread', 'RtlMoveMemory', 'RtlUnwind', 'RtlZeroMemory', 'SearchPathA',
  'SetConsoleCtrlHandler', 'SetCurrentDirectoryA', 'SetEndOfFile', 'SetEnvironmentVariableA', 'SetErrorMode',
  'SetEvent', 'SetFileAttributesA', 'SetFilePointer', 'SetFileTime', 'SetHandleCount', 'SetLastError',
  'SetPriorityClass', 'SetStdHandle', 'SetThreadContext', 'SetThreadPriority', 'SetUnhandledExceptionFilter',
  'SizeofResource', 'Sleep', 'SleepEx', 'SuspendThread', 'SystemTimeToFileTime', 'TerminateProcess',
  'TerminateThread', 'Thread32First', 'Thread32Next', 'TlsAlloc', 'TlsFree', 'TlsGetValue', 'TlsSetValue',
  'UnhandledExceptionFilter', 'UnmapViewOfFile', 'VirtualAlloc', 'VirtualAllocEx', 'VirtualFree', 'VirtualFreeEx',
  'VirtualLock', 'VirtualProtect', 'VirtualProtectEx', 'VirtualQuery', 'VirtualQueryEx', 'WaitForMultipleObjects',
  'WaitForSingleObject', 'WideCharToMultiByte', 'WinExec', 'WriteConsoleA', 'WriteFile',
  'WritePrivateProfileStringA', 'WriteProcessMemory', 'lstrcatA', 'lstrcmpA', 'lstrcmpiA', 'lstrcpyA', 'lstrcpynA',
  'lstrlenA', 'lstrlenW',
].sort()

const ownPath = 'C:\\program.exe'
const fileHandle = 0x1f0

export type ApiOutcome = 'continue' | 'stop'

export class WinApi {
  readonly names: string[] = []
  readonly #libraries = new Map<string, number>()

  #filePosition = 0

  constructor (readonly mem: Memory, readonly imageBase: number, readonly file: Uint8Array) {
    const kernel = mem.map(kernelBase, trapBase - kernelBase + trapSize, 'kernel32').bytes
    kernel.fill(0xc3, trapBase - kernelBase)
    this.#libraries.set('kernel32.dll', kernelBase)
    this.#libraries.set('kernel32', kernelBase)
    writeExports(new DataView(kernel.buffer), kernelExports.map(name => this.addressOf(name) - kernelBase))
  }

  isTrap (address: number): boolean { return address >= trapBase && address < trapBase + trapSize }

  /// The trap address standing for `name` (allocated on first use; the table is bounded).
  addressOf (name: string): number {
    let i = this.names.indexOf(name)
    if (i === -1) {
      if (this.names.length >= trapSlots) return trapBase
      i = this.names.push(name) - 1
    }
    return trapBase + i * 4
  }

  library (name: string): number {
    const key = name.toLowerCase()
    let handle = this.#libraries.get(key)
    if (handle === undefined) { handle = dllBase + this.#libraries.size * 0x10000; this.#libraries.set(key, handle) }
    return handle
  }

  /// Fills the program's import address table with trap addresses (names as the loader would bind).
  bindImports (importRva: number): void {
    const base = this.imageBase
    for (let d = importRva; d !== 0; d += 20) {
      const lookup = this.mem.read32(base + d)
      const nameRva = this.mem.read32(base + d + 12)
      const iat = this.mem.read32(base + d + 16)
      if (nameRva === 0 || iat === 0) break
      const dll = this.mem.readCString(base + nameRva, 64)
      this.library(dll)
      const thunks = lookup !== 0 ? lookup : iat
      for (let i = 0; i < 4096; i++) {
        const entry = this.mem.read32(base + thunks + i * 4)
        if (entry === 0) break
        const name = (entry & 0x80000000) !== 0 ? `${dll}#${entry & 0xffff}` : this.mem.readCString(base + entry + 2, 128)
        this.mem.write32(base + iat + i * 4, this.addressOf(name))
      }
    }
  }

  /// Runs the function at `trap` (stdcall: arguments popped, result in EAX), or says to stop.
  call (cpu: Cpu, trap: number): ApiOutcome {
    const name = this.names[(trap - trapBase) >>> 2] ?? '?'
    const arg = (n: number): number => this.mem.read32(cpu.r[ESP]! + 4 + n * 4)
    let result: number
    let args: number
    switch (name) {
      case 'LoadLibraryA': case 'LoadLibraryW': case 'GetModuleHandleA': case 'LoadLibraryExA': {
        const p = arg(0)
        result = p === 0 ? this.imageBase : this.library(name.endsWith('W') ? this.#wide(p) : this.mem.readCString(p, 128))
        args = name === 'LoadLibraryExA' ? 3 : 1
        break
      }
      case 'GetProcAddress': {
        const p = arg(1)
        // Windows answers NULL for a name pointer it cannot read (MEW's import loop ends on that).
        result = p < 0x10000 ? this.addressOf(`#${p}`) : this.mem.find(p) === undefined ? 0 : this.addressOf(this.mem.readCString(p, 128))
        args = 2
        break
      }
      case 'VirtualAlloc': {
        const size = arg(1)
        if (size === 0 || size > 64 << 20) { result = 0 } else {
          const wanted = arg(0)
          const base = wanted !== 0 && this.mem.find(wanted) !== undefined ? wanted : this.mem.freeBase(size)
          if (this.mem.find(base) === undefined) this.mem.map(base, (size + 0xfff) & ~0xfff, 'VirtualAlloc')
          result = base
        }
        args = 4
        break
      }
      case 'VirtualFree': result = 1; args = 3; break
      case 'VirtualProtect': { const old = arg(3); if (old !== 0) this.mem.write32(old, 0x40); result = 1; args = 4; break }
      case 'GetModuleFileNameA': result = this.#writeString(arg(1), arg(2), ownPath); args = 3; break
      // The program's own file, the only one a stub opens (to check its own checksum or read an overlay).
      case 'CreateFileA': result = fileHandle; this.#filePosition = 0; args = 7; break
      case 'GetFileSize': if (arg(1) !== 0) this.mem.write32(arg(1), 0); result = this.file.length; args = 2; break
      case 'SetFilePointer': {
        const base = arg(3) === 0 ? 0 : arg(3) === 1 ? this.#filePosition : this.file.length
        this.#filePosition = Math.max(0, Math.min(this.file.length, base + (arg(1) | 0)))
        result = this.#filePosition
        args = 4
        break
      }
      case 'ReadFile': {
        const n = Math.min(arg(2), this.file.length - this.#filePosition)
        for (let i = 0; i < n; i++) this.mem.write8(arg(1) + i, this.file[this.#filePosition + i]!)
        this.#filePosition += n
        if (arg(3) !== 0) this.mem.write32(arg(3), n)
        result = 1
        args = 5
        break
      }
      case 'CloseHandle': result = 1; args = 1; break
      case 'GetTickCount': result = 0x10000; args = 0; break
      case 'IsDebuggerPresent': result = 0; args = 0; break
      default: return 'stop'
    }
    const ret = cpu.pop()
    cpu.r[ESP] = (cpu.r[ESP]! + args * 4) >>> 0
    cpu.r[EAX] = result
    cpu.eip = ret
    return 'continue'
  }

  /// Copies `text` NUL-terminated into a buffer of `size` bytes; returns the length written.
  #writeString (at: number, size: number, text: string): number {
    const n = Math.min(text.length, Math.max(0, size - 1))
    for (let i = 0; i < n; i++) this.mem.write8(at + i, text.charCodeAt(i))
    if (size > 0) this.mem.write8(at + n, 0)
    return n
  }

  #wide (p: number): string {
    let s = ''
    for (let i = 0; i < 128; i++) { const c = this.mem.read16(p + i * 2); if (c === 0) break; s += String.fromCharCode(c) }
    return s
  }
}

/// MZ → PE header → export directory (at 0x1000) with one name and one address per kernelExports entry.
function writeExports (k: DataView, rvas: readonly number[]): void {
  k.setUint16(0, 0x5a4d, true)
  k.setUint32(0x3c, 0x80, true)
  k.setUint32(0x80, 0x4550, true)
  k.setUint16(0x84, 0x14c, true)
  k.setUint16(0x94, 0xe0, true)
  k.setUint16(0x98, 0x10b, true)
  k.setUint32(0x98 + 28, kernelBase, true)
  k.setUint32(0x98 + 56, trapBase - kernelBase + trapSize, true)
  k.setUint32(0x98 + 92, 16, true)
  const dir = 0x1000
  const functions = dir + 0x40
  const names = functions + rvas.length * 4
  const ordinals = names + rvas.length * 4
  let strings = ordinals + rvas.length * 2
  k.setUint32(0x98 + 96, dir, true)
  k.setUint32(0x98 + 100, 0x8000, true)
  k.setUint32(dir + 12, strings, true)
  strings = writeString(k, strings, 'KERNEL32.dll')
  k.setUint32(dir + 16, 1, true)
  k.setUint32(dir + 20, rvas.length, true)
  k.setUint32(dir + 24, rvas.length, true)
  k.setUint32(dir + 28, functions, true)
  k.setUint32(dir + 32, names, true)
  k.setUint32(dir + 36, ordinals, true)
  kernelExports.forEach((name, i) => {
    k.setUint32(functions + i * 4, rvas[i]!, true)
    k.setUint32(names + i * 4, strings, true)
    k.setUint16(ordinals + i * 2, i, true)
    strings = writeString(k, strings, name)
  })
}

function writeString (k: DataView, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) k.setUint8(at + i, text.charCodeAt(i))
  k.setUint8(at + text.length, 0)
  return at + text.length + 1
}
