import { test } from 'node:test';
import assert from 'node:assert/strict';
import { masterDownIntervalUs, skewTimeUs } from '../../src/vrrp/timing.js';

// Expected values are keepalived's integer arithmetic (VRRP_TIMER_SKEW_CALC / VRRP_MS_DOWN_TIMER in
// include/vrrp.h, TIMER_HZ = 1e6), worked out by hand.
const skewCases: { name: string; version: 2 | 3; prio: number; cs: number; us: number }[] = [
  // Captured: prio 100 v2 backup takes over 0.609375 s after a priority-0 advert (156/256 s).
  { name: 'v2 prio 100 (capture cap_fail)', version: 2, prio: 100, cs: 100, us: 609_375 },
  { name: 'v2 prio 150 truncates 414062.5', version: 2, prio: 150, cs: 100, us: 414_062 },
  { name: 'v2 prio 255 truncates 3906.25', version: 2, prio: 255, cs: 100, us: 3_906 },
  { name: 'v2 prio 1', version: 2, prio: 1, cs: 100, us: 996_093 },
  { name: 'v2 ignores the advert interval', version: 2, prio: 100, cs: 300, us: 609_375 },
  { name: 'v3 prio 100 at 1 s equals v2', version: 3, prio: 100, cs: 100, us: 609_375 },
  { name: 'v3 prio 100 at 0.5 s truncates 304687.5', version: 3, prio: 100, cs: 50, us: 304_687 },
  { name: 'v3 prio 255 at 10 ms truncates 39.0625', version: 3, prio: 255, cs: 1, us: 39 },
  { name: 'v3 prio 200 at 0.5 s (cap_v3 vrid 52)', version: 3, prio: 200, cs: 50, us: 109_375 },
  { name: 'v3 prio 1 at 40.95 s (largest)', version: 3, prio: 1, cs: 4095, us: 40_790_039 },
];

void test('skewTimeUs: (256 - p) / 256 s for v2, × Master_Adver_Interval for v3, truncated as keepalived', () => {
  for (const c of skewCases) {
    assert.equal(skewTimeUs(c.version, c.prio, c.cs), c.us, c.name);
  }
});

const downCases: { name: string; version: 2 | 3; prio: number; cs: number; n: number; us: number }[] = [
  // Captured: prio 100 v2 1 s backup takes over 3.609375 s after the master's last advert.
  {
    name: 'v2 prio 100, 1 s, 3 adverts (capture cap_fail)',
    version: 2,
    prio: 100,
    cs: 100,
    n: 3,
    us: 3_609_375,
  },
  { name: 'v2 prio 150, 1 s, 3 adverts', version: 2, prio: 150, cs: 100, n: 3, us: 3_414_062 },
  { name: 'v2 prio 100, 2 s: skew stays 156/256 s', version: 2, prio: 100, cs: 200, n: 3, us: 6_609_375 },
  { name: 'v3 prio 100, 0.5 s', version: 3, prio: 100, cs: 50, n: 3, us: 1_804_687 },
  { name: 'v3 prio 100, 0.5 s, down_timer_adverts 1', version: 3, prio: 100, cs: 50, n: 1, us: 804_687 },
  { name: 'v3 prio 254, 10 ms, 10 adverts', version: 3, prio: 254, cs: 1, n: 10, us: 100_078 },
];

void test('masterDownIntervalUs: downTimerAdverts × Master_Adver_Interval + Skew_Time', () => {
  for (const c of downCases) {
    assert.equal(masterDownIntervalUs(c.version, c.prio, c.cs, c.n), c.us, c.name);
  }
});

void test('timing results are integers for every priority and interval', () => {
  for (let prio = 1; prio <= 255; prio++) {
    for (const cs of [1, 7, 50, 99, 100, 333, 4095]) {
      for (const version of [2, 3] as const) {
        const skew = skewTimeUs(version, prio, cs);
        assert.ok(Number.isSafeInteger(skew) && skew >= 0, `v${version} p${prio} ${cs}cs skew ${skew}`);
        assert.equal(masterDownIntervalUs(version, prio, cs, 3), 3 * cs * 10_000 + skew);
      }
    }
  }
});
