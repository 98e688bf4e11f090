import t from 'tap';
import { LoginThrottle } from '../../server/accounts/login-throttle.js';

function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

t.test('blocks a name from one address, for longer each time', async (t) => {
  const c = clock();
  const th = new LoginThrottle({ perMinute: 3, now: c.now });
  const failTimes = (n: number) => {
    for (let i = 0; i < n; i++) th.failed('amina', '10.0.0.1');
  };
  failTimes(2);
  t.equal(th.wait('amina', '10.0.0.1'), 0, 'under the limit');
  failTimes(1);
  t.equal(th.wait('amina', '10.0.0.1'), 60, 'first block: a minute');
  t.equal(th.wait('amina', '10.0.0.2'), 0, 'another address is free');
  t.equal(th.wait('baraka', '10.0.0.1'), 0, 'another name is free');
  c.advance(60_000);
  t.equal(th.wait('amina', '10.0.0.1'), 0, 'the block ends');
  failTimes(3);
  t.equal(th.wait('amina', '10.0.0.1'), 120, 'second block: twice as long');
  c.advance(120_000);
  failTimes(3);
  t.equal(th.wait('amina', '10.0.0.1'), 240, 'third: twice again');
  for (let i = 0; i < 10; i++) {
    c.advance(3_600_000);
    failTimes(3);
  }
  t.equal(th.wait('amina', '10.0.0.1'), 3600, 'never more than an hour');
});

t.test('failures spread beyond a minute do not add up', async (t) => {
  const c = clock();
  const th = new LoginThrottle({ perMinute: 3, now: c.now });
  for (let i = 0; i < 10; i++) {
    th.failed('amina', '10.0.0.1');
    c.advance(30_001);
  }
  t.equal(th.wait('amina', '10.0.0.1'), 0);
});

t.test('a day without failures, or the right password, starts over', async (t) => {
  const c = clock();
  const th = new LoginThrottle({ perMinute: 2, now: c.now });
  for (let round = 0; round < 3; round++) {
    th.failed('amina', '10.0.0.1');
    th.failed('amina', '10.0.0.1');
    c.advance(3_600_000);
  }
  c.advance(86_400_001);
  th.failed('amina', '10.0.0.1');
  th.failed('amina', '10.0.0.1');
  t.equal(th.wait('amina', '10.0.0.1'), 60, 'back to the first block');
  th.succeeded('amina', '10.0.0.1');
  t.equal(th.wait('amina', '10.0.0.1'), 0, 'the right password lifts it');
});

t.test('memory stays bounded: the stalest pairs are forgotten', async (t) => {
  const c = clock();
  const th = new LoginThrottle({ perMinute: 1, now: c.now, maxPairs: 3 });
  for (const a of ['1', '2', '3', '4']) th.failed('amina', `10.0.0.${a}`);
  t.equal(th.wait('amina', '10.0.0.1'), 0, 'the oldest went');
  t.equal(th.wait('amina', '10.0.0.4'), 60, 'the newest stays');
});
