import t from 'tap';
import { gateway } from './helper.js';
t.test('docs', async (t) => {
  const gw = await gateway(t);
  const res = await gw.call('GET', '/docs/json');
  console.log(res.status, Object.keys(res.body.paths).filter((p: string) => p.includes('sync') || p.includes('metrics')));
  console.log(JSON.stringify(res.body.paths['/sync/{*}'] ?? res.body.paths['/sync/*'], null, 1).slice(0, 1500));
});
