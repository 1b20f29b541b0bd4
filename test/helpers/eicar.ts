/// Test samples are built at test time, never stored: the EICAR string is assembled from two halves
/// so that no file in the repository is itself an EICAR file.
export const eicar = Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-' + 'STANDARD-ANTIVIRUS-TEST-FILE!$H+H*', 'latin1')

/// Fixtures hold `@@EICAR@@` where the sample goes; it is built at test time, never stored.
export function withEicar (request: Buffer): Buffer {
  const marker = Buffer.from('@@EICAR@@')
  const parts: Buffer[] = []
  let from = 0
  for (let at = request.indexOf(marker); at >= 0; at = request.indexOf(marker, from)) {
    parts.push(request.subarray(from, at), eicar)
    from = at + marker.length
  }
  parts.push(request.subarray(from))
  return Buffer.concat(parts)
}
