import { replayProgress } from './view-runner';

describe('the replay progress /health shows while the view catches up', () => {
  it('gives the rate so far and when the rest is read at that rate', () => {
    expect(replayProgress(30_000, 2, 45_000)).toEqual({ read: 30_000, perSecond: 15_000, etaSeconds: 3 });
    // Rounded up: a second's worth left is not "0 s".
    expect(replayProgress(1_000, 1, 1)).toEqual({ read: 1_000, perSecond: 1_000, etaSeconds: 1 });
  });

  it('says nothing it cannot know: no rate in the first half second or before a message, no ETA without what is left', () => {
    expect(replayProgress(500, 0.2, 10_000)).toEqual({ read: 500, perSecond: null, etaSeconds: null });
    expect(replayProgress(0, 5, 10_000)).toEqual({ read: 0, perSecond: null, etaSeconds: null });
    expect(replayProgress(10_000, 2, null)).toEqual({ read: 10_000, perSecond: 5_000, etaSeconds: null });
  });
});
