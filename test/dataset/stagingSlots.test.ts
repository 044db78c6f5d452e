// One worker stages a bounded number of datasets at once: the others wait in arrival order, and a run
// cancelled while it waits leaves the queue without taking a slot.
import { StagingSlots } from '../../src/dataset/stagingSlots';

const tick = () => new Promise((r) => setImmediate(r));

test('at most `size` at once; the next waiter gets a released slot, first come first served', async () => {
  const slots = new StagingSlots(2);
  const order: string[] = [];
  const a = await slots.acquire();
  const b = await slots.acquire();
  const c = slots.acquire().then((release) => (order.push('c'), release));
  const d = slots.acquire().then((release) => (order.push('d'), release));
  await tick();
  expect(order).toEqual([]);
  expect(slots.stats).toEqual({ staging: 2, waiting: 2 });
  a();
  a(); // a second call of one release gives nothing back twice
  const releaseC = await c;
  await tick();
  expect(order).toEqual(['c']);
  b();
  const releaseD = await d;
  expect(order).toEqual(['c', 'd']);
  releaseC();
  releaseD();
  expect(slots.stats).toEqual({ staging: 0, waiting: 0 });
});

test('a waiter whose signal aborts leaves the queue and takes no slot', async () => {
  const slots = new StagingSlots(1);
  const held = await slots.acquire();
  const controller = new AbortController();
  const cancelled = slots.acquire(controller.signal);
  const next = slots.acquire();
  controller.abort(new Error('run cancelled'));
  await expect(cancelled).rejects.toThrow('run cancelled');
  held();
  const release = await next;
  expect(slots.stats).toEqual({ staging: 1, waiting: 0 });
  release();
  await expect(slots.acquire(controller.signal)).rejects.toThrow('run cancelled');
});

test('a size below 1 is refused', () => {
  expect(() => new StagingSlots(0)).toThrow(RangeError);
});
