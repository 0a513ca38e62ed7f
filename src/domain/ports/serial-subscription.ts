/**
 * The iterator plumbing every subscription shares: concurrent next() calls are served one after
 * the other (each gets its own item), and return()/throw() close the subscription. A subclass
 * supplies pull() (the next item, or done once closed) and close() (which must also end a pull
 * that is waiting).
 */
export abstract class SerialSubscription<T> implements AsyncIterableIterator<T> {
  private serial: Promise<unknown> = Promise.resolve();

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    const result = this.serial.then(() => this.pull());
    this.serial = result.catch(() => undefined);
    return result;
  }

  async return(): Promise<IteratorResult<T>> {
    await this.close();
    return { done: true, value: undefined };
  }

  async throw(error?: unknown): Promise<IteratorResult<T>> {
    await this.close();
    throw error;
  }

  protected abstract pull(): Promise<IteratorResult<T>>;

  abstract close(): Promise<void>;
}
