// The figures issue 24 was filed with (the first main measured, `npm run bench -- cost` on this
// machine), printed beside every run's so a reader sees how far the service has come by the same
// measure. The issue measured the floor beside each route: its ratios divide by that floor.
export const FIRST_MAIN = {
  startup: {
    api: { best_ms: 103, median_ms: 120 },
    floor: { best_ms: 1.1, median_ms: 14.7 },
  },
  cost: {
    live: { cpu_ms: 10.6, floor_cpu_ms: 3.0, ratio: 3.5, rps_ratio: 0.37 },
    list: { cpu_ms: 12.8, floor_cpu_ms: 2.6, ratio: 5.0, rps_ratio: 0.19 },
    search: { cpu_ms: 12.5, floor_cpu_ms: 2.5, ratio: 4.9, rps_ratio: 0.23 },
  },
};
