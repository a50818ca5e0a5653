/**
 * Who should hold the address while this node is VRRP MASTER: a pure reducer, like the VRRP state
 * machine, so the simulator can prove the rule and the notify stage only carries out its actions.
 *
 * The problem: when protocol 112 is cut between two nodes that both still reach the cloud API,
 * both are MASTER. Naive notify scripts then move the address back and forth for as long as the
 * cut lasts, or worse, the last one to move wins at random. The rule (also in DESIGN.md):
 *
 *  1. On becoming MASTER, acquire, then read the holder back; re-read it every reconcile interval.
 *  2. Reading back another holder X:
 *     - if our own last move is older than the hold-off H (or we never moved), this is drift
 *       (someone moved it by hand, or a peer that became master much later): repair it at once;
 *     - otherwise X took it from us within H of our own move: a competing master. Yield and stay
 *       fenced: no more moves, keep reading the holder.
 *  3. A fenced master moves again only on evidence that it should:
 *     - the address is free (holder null), or the platform says X is dead (`holderAlive` false):
 *       at once, so a real failure of the holder is still taken over promptly;
 *     - a VRRP advert from a peer was accepted since we fenced (protocol 112 works again and VRRP
 *       still says we are master), and our last move is older than H;
 *     - it has been fenced for H and its own last move is older than H. This backstop exists
 *       because a winner cannot tell a lasting split from a silent BACKUP that kept the address
 *       (an election duel whose loser's call landed last): without it that address would stay on
 *       a backup for ever. The notify stage also releases on leaving MASTER, so providers that can
 *       give the address back end the duel at once (holder null).
 *  4. Every read of another holder asks the platform whether it is alive, so a dead holder is
 *     taken over on the first read, fenced or not.
 *
 * Outcome: a split in which one side hears the other, or one side dies, ends with exactly one
 * holder (the VRRP winner, or the survivor). A lasting total cut between two live masters costs at
 * most one move per node per hold-off window, each logged as a suspected split brain.
 */

export interface HolderPolicyParams {
  /** How often a MASTER reads the holder back. */
  reconcileIntervalUs: number;
  /** The hold-off window H: at most one move per node per window while contending. */
  holdOffUs: number;
}

export type PolicyPhase = 'idle' | 'acquiring' | 'holding' | 'fenced';

export interface HolderPolicyState {
  readonly params: HolderPolicyParams;
  readonly phase: PolicyPhase;
  /** When our last acquire completed (µs), null if never in this process. */
  readonly lastMoveAt: number | null;
  readonly fencedAt: number | null;
  readonly fencedBy: string | null;
  readonly peerHeardSinceFence: boolean;
  /** A holder read is outstanding: ticks do not pile up reads. */
  readonly reading: boolean;
  /** Next reconcile tick (µs), null when idle. */
  readonly reconcileAt: number | null;
}

export type PolicyEvent =
  | { type: 'became-master' }
  | { type: 'left-master' }
  | { type: 'acquire-done'; ok: boolean }
  /** `alive`: the platform's view of `holder` when it is another node (null: cannot tell). */
  | { type: 'holder-read'; holder: string | null; self: string; alive: boolean | null }
  | { type: 'holder-read-failed' }
  | { type: 'peer-advert' }
  | { type: 'tick' };

export type AcquireReason =
  'became-master' | 'address-free' | 'drift' | 'holder-dead' | 'vrrp-peer-heard' | 'hold-off-expired';

export type PolicyAction =
  | { type: 'acquire'; reason: AcquireReason; previousHolder?: string }
  | { type: 'read-holder' }
  | { type: 'schedule'; at: number }
  | { type: 'fenced'; holder: string; sinceOwnMoveUs: number }
  | { type: 'unfenced'; reason: string };

export function createHolderPolicy(params: HolderPolicyParams): HolderPolicyState {
  return {
    params,
    phase: 'idle',
    lastMoveAt: null,
    fencedAt: null,
    fencedBy: null,
    peerHeardSinceFence: false,
    reading: false,
    reconcileAt: null,
  };
}

export function stepHolderPolicy(
  s: HolderPolicyState,
  e: PolicyEvent,
  now: number,
): { state: HolderPolicyState; actions: PolicyAction[] } {
  const out: PolicyAction[] = [];
  const next = (
    patch: Partial<HolderPolicyState>,
  ): { state: HolderPolicyState; actions: PolicyAction[] } => ({
    state: { ...s, ...patch },
    actions: out,
  });
  const acquire = (reason: AcquireReason, previousHolder?: string) => {
    out.push(
      previousHolder === undefined
        ? { type: 'acquire', reason }
        : { type: 'acquire', reason, previousHolder },
    );
    return next({ phase: 'acquiring', reading: false, reconcileAt: null, fencedAt: null, fencedBy: null });
  };
  const scheduleTick = (patch: Partial<HolderPolicyState>) => {
    const at = now + s.params.reconcileIntervalUs;
    out.push({ type: 'schedule', at });
    return next({ ...patch, reading: false, reconcileAt: at });
  };

  switch (e.type) {
    case 'became-master':
      return acquire('became-master');

    case 'left-master':
      // The move history survives a tenure: a node that flaps back to MASTER within H of its own
      // last move must still count as having moved.
      return next({ phase: 'idle', reading: false, reconcileAt: null, fencedAt: null, fencedBy: null });

    case 'acquire-done':
      if (s.phase !== 'acquiring') return next({});
      if (!e.ok) return scheduleTick({ phase: 'holding' });
      // Read back right away: the provider may have succeeded against a stale view, and a
      // competitor may already have moved it again.
      out.push({ type: 'read-holder' });
      return next({ phase: 'holding', lastMoveAt: now, reading: true, reconcileAt: null });

    case 'tick':
      if ((s.phase !== 'holding' && s.phase !== 'fenced') || s.reading) return next({});
      if (s.reconcileAt !== null && now < s.reconcileAt) return next({});
      out.push({ type: 'read-holder' });
      return next({ reading: true, reconcileAt: null });

    case 'holder-read-failed':
      if (s.phase !== 'holding' && s.phase !== 'fenced') return next({});
      return scheduleTick({});

    case 'peer-advert':
      if (s.phase !== 'fenced') return next({});
      return next({ peerHeardSinceFence: true });

    case 'holder-read': {
      if (s.phase !== 'holding' && s.phase !== 'fenced') return next({});
      if (e.holder === e.self) {
        if (s.phase === 'fenced') out.push({ type: 'unfenced', reason: 'holder is this node again' });
        return scheduleTick({ phase: 'holding', fencedAt: null, fencedBy: null });
      }
      if (e.holder === null) {
        // Free right after our own move: the platform has not caught up (eventual consistency)
        // or the provider cannot see it. Look again next interval rather than spin on acquire.
        if (s.lastMoveAt !== null && now - s.lastMoveAt < s.params.reconcileIntervalUs)
          return scheduleTick({});
        return acquire('address-free');
      }
      const sinceMove = s.lastMoveAt === null ? Infinity : now - s.lastMoveAt;
      const windowOpen = sinceMove >= s.params.holdOffUs;

      if (s.phase === 'holding') {
        if (e.alive === false) return acquire('holder-dead', e.holder);
        if (windowOpen) return acquire('drift', e.holder);
        out.push({ type: 'fenced', holder: e.holder, sinceOwnMoveUs: sinceMove });
        return scheduleTick({
          phase: 'fenced',
          fencedAt: now,
          fencedBy: e.holder,
          peerHeardSinceFence: false,
        });
      }

      // Fenced.
      if (e.alive === false) return acquire('holder-dead', e.holder);
      if (s.peerHeardSinceFence && windowOpen) return acquire('vrrp-peer-heard', e.holder);
      const fencedFor = s.fencedAt === null ? 0 : now - s.fencedAt;
      if (fencedFor >= s.params.holdOffUs && windowOpen) {
        return acquire('hold-off-expired', e.holder);
      }
      return scheduleTick({ fencedBy: e.holder });
    }
  }
}
