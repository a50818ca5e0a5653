/**
 * EC2's eventual consistency: a mutation commits at once (later calls conflict with it), but
 * Describe* keeps showing the previous view of each touched resource for a while. We snapshot every
 * view before and after a mutating call; each resource whose view changed keeps serving its old view
 * until `now + delay` for that resource.
 */
import type { Ec2State } from './model.js';
import { idsOf, render, RESOURCE_KINDS, type ResourceKind, type ViewsByKind } from './views.js';

export interface LagTarget {
  kind: ResourceKind;
  id: string;
  action: string;
}

/** Delay in ms before Describe* shows a mutation of one resource; 0 means strongly consistent. */
export type ConsistencyDelay = number | ((target: LagTarget) => number);

type Snapshot = Map<string, string>;

interface Pending {
  /** JSON of the view Describe* still shows; undefined when the resource did not exist yet. */
  json: string | undefined;
  until: number;
}

const key = (kind: ResourceKind, id: string): string => `${kind}\u0000${id}`;

export class ConsistencyLayer {
  private readonly pending = new Map<string, Pending[]>();

  constructor(private readonly state: Ec2State) {}

  snapshot(): Snapshot {
    const snap: Snapshot = new Map();
    for (const kind of RESOURCE_KINDS) {
      for (const id of idsOf(this.state, kind))
        snap.set(key(kind, id), JSON.stringify(render(this.state, kind, id)));
    }
    return snap;
  }

  /** Compares the state now with `before` and delays visibility of every changed resource. */
  record(before: Snapshot, now: number, delay: ConsistencyDelay, action: string): void {
    const after = this.snapshot();
    const keys = new Set([...before.keys(), ...after.keys()]);
    for (const k of keys) {
      const old = before.get(k);
      if (old === after.get(k)) continue;
      const [kind, id] = k.split('\u0000') as [ResourceKind, string];
      const ms = typeof delay === 'number' ? delay : delay({ kind, id, action });
      if (!(ms > 0)) continue;
      const list = this.pending.get(k) ?? [];
      list.push({ json: old, until: now + ms });
      this.pending.set(k, list);
    }
  }

  /** What Describe* shows for `kind` at `now`, keyed by id, in the state's insertion order. */
  visible<K extends ResourceKind>(kind: K, now: number): Map<string, ViewsByKind[K]> {
    const out = new Map<string, ViewsByKind[K]>();
    const ids = new Set(idsOf(this.state, kind));
    for (const k of this.pending.keys()) {
      const [pendingKind, id] = k.split('\u0000') as [ResourceKind, string];
      if (pendingKind === kind) ids.add(id);
    }
    for (const id of ids) {
      const shown = this.shown(kind, id, now);
      if (shown !== undefined) out.set(id, shown);
    }
    return out;
  }

  /** Drops lag so the next Describe* shows the committed state (for tests that need a clean slate). */
  settle(): void {
    this.pending.clear();
  }

  private shown<K extends ResourceKind>(kind: K, id: string, now: number): ViewsByKind[K] | undefined {
    const k = key(kind, id);
    const list = this.pending.get(k);
    if (list) {
      const live = list.filter((p) => p.until > now);
      if (live.length === 0) this.pending.delete(k);
      else {
        this.pending.set(k, live);
        const first = live[0]!;
        return first.json === undefined ? undefined : (JSON.parse(first.json) as ViewsByKind[K]);
      }
    }
    return render(this.state, kind, id);
  }
}
