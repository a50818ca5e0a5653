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
 *     - it has been fenced for the backstop wait and its own last move is older than H. This
 *       backstop exists because a winner cannot tell a lasting split from a silent BACKUP that
 *       kept the address (an election duel whose loser's call landed last): without it that
 *       address would stay on a backup for ever. The notify stage also releases on leaving
 *       MASTER, so providers that can give the address back end the duel at once (holder null).
 *  4. Every read of another holder asks the platform whether it is alive, so a dead holder is
 *     taken over on the first read, fenced or not.
 *  5. The backstop wait is H, doubled each time a move of ours made without fresh evidence (a
 *     backstop or a drift repair) is taken back within H, up to H·2^MAX_BACKSTOP_DOUBLINGS; back
 *     to H once a move of ours has stood for a whole H. A silent BACKUP never takes an address
 *     back, so such a move undone at once was answered by a live master we cannot hear, while it
 *     may well hear us (a one-way cut). Retrying every H would move the address twice per H for
 *     as long as the cut lasts; doubling makes that rarer, and the cap bounds how long a frozen
 *     holder behind such a cut, or a silent BACKUP right after it heals, keeps the address.
 *
 * Outcome: a split in which one side hears the other, or one side dies, ends with exactly one
 * holder (the VRRP winner, or the survivor); while a one-way or total cut lasts, the address moves
 * at most once per node per hold-off window and ever more rarely, each move logged as a suspected
 * split brain.
 */

/** First re-read after fencing (or the reconcile interval, if shorter). */
export const FENCE_RECHECK_US = 1_000_000;

/**
 * Cap of rule 5: the backstop wait grows to at most 4·H (4 min with the default H of 60 s). It is
 * also how long a winner may wait for an address left on a silent BACKUP right after such a cut
 * heals (it cannot tell the two apart), so it stays small.
 */
export const MAX_BACKSTOP_DOUBLINGS = 2;

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
  /** Why we last asked for the address (rule 5 counts only backstop moves). */
  readonly lastMoveReason: AcquireReason | null;
  /** When a read last showed this node as the holder (µs), null if never. */
  readonly lastSelfSeenAt: number | null;
  /** Rule 5: how many of our evidence-free moves in a row were taken back within H. */
  readonly backstopDoublings: number;
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
  | { type: 'fenced'; holder: string; sinceOwnMoveUs: number; backstopWaitUs: number }
  | { type: 'unfenced'; reason: string };

export function createHolderPolicy(params: HolderPolicyParams): HolderPolicyState {
  return {
    params,
    phase: 'idle',
    lastMoveAt: null,
    fencedAt: null,
    fencedBy: null,
    peerHeardSinceFence: false,
    lastMoveReason: null,
    lastSelfSeenAt: null,
    backstopDoublings: 0,
    reading: false,
    reconcileAt: null,
  };
}

/** How long a fenced master waits before its backstop move (rule 5). */
export function backstopWaitUs(s: HolderPolicyState): number {
  return s.params.holdOffUs * 2 ** s.backstopDoublings;
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
    return next({
      phase: 'acquiring',
      reading: false,
      reconcileAt: null,
      fencedAt: null,
      fencedBy: null,
      lastMoveReason: reason,
    });
  };
  const scheduleTick = (patch: Partial<HolderPolicyState>, inUs = s.params.reconcileIntervalUs) => {
    const at = now + inUs;
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

    case 'peer-advert': {
      if (s.phase !== 'fenced') return next({});
      // 112 works again: look now rather than at the next reconcile, if a move would be allowed.
      const mayMove = s.lastMoveAt === null || now - s.lastMoveAt >= s.params.holdOffUs;
      if (mayMove && !s.reading) {
        out.push({ type: 'read-holder' });
        return next({ peerHeardSinceFence: true, reading: true, reconcileAt: null });
      }
      return next({ peerHeardSinceFence: true });
    }

    case 'holder-read': {
      if (s.phase !== 'holding' && s.phase !== 'fenced') return next({});
      if (e.holder === e.self) {
        if (s.phase === 'fenced') out.push({ type: 'unfenced', reason: 'holder is this node again' });
        const stood = s.lastMoveAt === null || now - s.lastMoveAt >= s.params.holdOffUs;
        return scheduleTick({
          phase: 'holding',
          fencedAt: null,
          fencedBy: null,
          lastSelfSeenAt: now,
          ...(stood ? { backstopDoublings: 0 } : {}),
        });
      }
      if (e.holder === null) {
        // Free right after our own move: the platform has not caught up (eventual consistency)
        // or the provider cannot see it. Look again next interval rather than spin on acquire.
        // Not when fenced: we have seen another holder since our move, so it is really free now
        // (the master we took over from released it).
        if (
          s.phase === 'holding' &&
          s.lastMoveAt !== null &&
          now - s.lastMoveAt < s.params.reconcileIntervalUs
        )
          return scheduleTick({});
        return acquire('address-free');
      }
      const sinceMove = s.lastMoveAt === null ? Infinity : now - s.lastMoveAt;
      const windowOpen = sinceMove >= s.params.holdOffUs;

      if (s.phase === 'holding') {
        if (e.alive === false) return acquire('holder-dead', e.holder);
        // Rule 5. Drift repairs count too: behind a one-way cut the deaf side sees each of the
        // winner's moves as drift (it comes about H after its own), and without this the two
        // would alternate once per H. How long our move stood is known up to the last read that
        // still showed us.
        const stoodUs =
          s.lastMoveAt !== null && s.lastSelfSeenAt !== null && s.lastSelfSeenAt >= s.lastMoveAt
            ? s.lastSelfSeenAt - s.lastMoveAt
            : 0;
        const probeUndone =
          (s.lastMoveReason === 'hold-off-expired' || s.lastMoveReason === 'drift') &&
          stoodUs < s.params.holdOffUs;
        if (windowOpen && !probeUndone) return acquire('drift', e.holder);
        const doublings = probeUndone
          ? Math.min(s.backstopDoublings + 1, MAX_BACKSTOP_DOUBLINGS)
          : s.backstopDoublings;
        out.push({
          type: 'fenced',
          holder: e.holder,
          sinceOwnMoveUs: sinceMove,
          backstopWaitUs: s.params.holdOffUs * 2 ** doublings,
        });
        // Look again soon: a master we just took over from is most likely releasing it (a
        // preemption, or the loser of an election duel), and the address is then free.
        return scheduleTick(
          {
            phase: 'fenced',
            fencedAt: now,
            fencedBy: e.holder,
            peerHeardSinceFence: false,
            backstopDoublings: doublings,
          },
          Math.min(s.params.reconcileIntervalUs, FENCE_RECHECK_US),
        );
      }

      // Fenced.
      if (e.alive === false) return acquire('holder-dead', e.holder);
      if (s.peerHeardSinceFence && windowOpen) return acquire('vrrp-peer-heard', e.holder);
      const fencedFor = s.fencedAt === null ? 0 : now - s.fencedAt;
      if (fencedFor >= backstopWaitUs(s) && windowOpen) {
        return acquire('hold-off-expired', e.holder);
      }
      return scheduleTick({ fencedBy: e.holder });
    }
  }
}
