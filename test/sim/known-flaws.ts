/**
 * Holder-policy invariants that the real rule (src/notify/holder-policy.ts) is known to violate on
 * some seeds; see test/sim/README.md "Known flaws of the holder policy". Sweeps tolerate them (the
 * first violation of each is recorded and the run goes on, so the VRRP invariants still see the
 * whole run) and a `todo` test reports them. When the rule is fixed, empty this list.
 */
import type { InvariantName } from '../../src/sim/invariants.js';

export const KNOWN_POLICY_FLAWS: readonly InvariantName[] = [
  // Flaw 3 (README): an asymmetric cut that leaves two masters (the better one hears the other,
  // the worse one is deaf) churns once per H like a total cut; seed 1866 is the first.
  'S1 one-holder',
];
