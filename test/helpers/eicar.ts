/// Test samples are built at test time, never stored: the EICAR string is assembled from two halves
/// so that no file in the repository is itself an EICAR file.
export const eicar = Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-' + 'STANDARD-ANTIVIRUS-TEST-FILE!$H+H*', 'latin1')
