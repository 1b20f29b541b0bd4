/// The test clients bind chosen local ports so the bed can map each attempt to its bucket. When
/// such a port is still in TIME_WAIT (an earlier attempt, another prober on the same range) the
/// kernel refuses it before any SYN leaves: EADDRINUSE at bind, or EADDRNOTAVAIL at connect when
/// the whole four-tuple is taken. Either way the cluster was never asked: the attempt is skipped.
export const localPortBusy = (code: string | undefined): boolean => code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL'
