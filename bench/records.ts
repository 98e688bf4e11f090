/** Realistic field records for benchmarks: farmers and visits as the reference sync rules describe them. */
const DISTRICTS = ['Kilosa', 'Mvomero', 'Gairo', 'Morogoro', 'Kilombero', 'Ulanga'];
const ACTIVITIES = ['training', 'input-distribution', 'follow-up', 'survey'];

export function farmerRecords(n: number, owner = 'agent-bench'): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++) {
    const created = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
    if (i % 2 === 0) {
      out.push({
        _id: `farmer-${String(i).padStart(6, '0')}`,
        type: 'farmer',
        owner,
        created_at: created,
        updated_at: created,
        name: `Mkulima ${i} Mwakalinga`,
        phone: `+2557${String(10_000_000 + i).slice(-8)}`,
        village: `Kijiji ${i % 97}`,
        district: DISTRICTS[i % DISTRICTS.length],
        gender: i % 3 === 0 ? 'female' : 'male',
        land_acres: (i % 40) / 4,
      });
    } else {
      out.push({
        _id: `visit-${String(i).padStart(6, '0')}`,
        type: 'visit',
        owner,
        created_at: created,
        updated_at: created,
        farmer_id: `farmer-${String(i - 1).padStart(6, '0')}`,
        visited_at: created,
        activity: ACTIVITIES[i % ACTIVITIES.length],
        notes:
          i % 5 === 0 ? 'Alishauriwa kupanda mbegu bora na kutumia mbolea kwa wakati.' : undefined,
        location: { lat: -6.8 - (i % 50) / 100, lon: 37.6 + (i % 50) / 100 },
      });
    }
  }
  return out.map((d) => JSON.parse(JSON.stringify(d)) as Record<string, unknown>);
}
