/** The time, as a port: the engine never reads the wall clock directly, so tests can drive it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
