import { KeyedSerializer } from './keyed-serializer';

describe('KeyedSerializer', () => {
  it('runs same-key tasks in order, one at a time, and different keys concurrently', async () => {
    const s = new KeyedSerializer();
    const log: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const task = (name: string, ms: number) => async () => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      running -= 1;
      return name;
    };
    const results = await Promise.all([s.run('a', task('a1', 20)), s.run('a', task('a2', 1)), s.run('b', task('b1', 5))]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
    expect(maxRunning).toBe(2);
    expect(s.size).toBe(0);
  });

  it('keeps going after a task fails, and reports the failure to its caller only', async () => {
    const s = new KeyedSerializer();
    const failed = s.run('k', async () => {
      throw new Error('boom');
    });
    const next = s.run('k', async () => 'ok');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
  });
});
